import {
  createInfluxSink,
  type InfluxEnv,
  type InfluxSink,
  InfluxWriteError,
  influxConfigFromEnv,
  recordToLine,
} from '@gridstream/influx';
import { type SinkTarget, SinkWriteError } from '@gridstream/sink';
import { alarmActionToLine, alarmToLine } from './alarm-line.js';

/**
 * InfluxDB as a sink: a point is a line of line protocol (precision ms), so a redelivered record writes
 * the same series and time and overwrites itself. InfluxDB's own refusals (400/413) are the ones the seam
 * isolates; everything else (outage, 5xx, auth, a missing database) is retried.
 */
export async function createInfluxTarget(env: InfluxEnv): Promise<SinkTarget<string>> {
  const sink = createInfluxSink(influxConfigFromEnv(env));
  if (env.INFLUX_CREATE_DATABASE) await sink.ensureDatabase?.();
  return {
    name: 'influxdb',
    stage: 'influx-writer',
    recordPoints(record) {
      const line = recordToLine(record);
      return line === null ? [] : [line];
    },
    alarmPoints: (event) => [alarmToLine(event)],
    alarmActionPoints: (action) => [alarmActionToLine(action)],
    write: influxWrite(sink),
    close: () => sink.close(),
  };
}

/** A sink's write in the seam's terms: InfluxDB's refusals of the data become SinkWriteErrors. */
export function influxWrite(sink: InfluxSink): (lines: string[]) => Promise<void> {
  return async (lines) => {
    try {
      await sink.write(lines);
    } catch (error) {
      if (error instanceof InfluxWriteError && !error.retriable)
        throw new SinkWriteError(error.influxMessage, false, error.status);
      throw error;
    }
  };
}
