import type { AlarmAction, AlarmEvent, ParsedRecord, PipelineStage } from '@gridstream/schema';

/** A point a sink refused for good, by its index in the batch given to {@link SinkTarget.write}. */
export interface PointRefusal {
  index: number;
  /** The server's own words; they become the dead letter's message. */
  message: string;
}

/**
 * What a database needs to give the sink seam; the seam does the rest (consume, decode, batch, write
 * concurrently, retry, isolate and dead-letter refused points, commit after the write, metrics,
 * readiness). `P` is the sink's point: a line of line protocol, a table row, an OpenTSDB datapoint.
 */
export interface SinkTarget<P> {
  /** Names the sink in `gridstream_sink_*` metrics (label `sink`), readiness and logs: `influxdb`, `postgresql`. */
  readonly name: string;
  /** The dead-letter stage of everything this sink refuses. */
  readonly stage: PipelineStage;
  /**
   * One parsed record's points, `[]` when it has nothing this sink stores. Throws for a record the sink
   * cannot represent: the record is dead-lettered (`invalid_record`, the error's message), never skipped.
   */
  recordPoints(record: ParsedRecord): P[];
  /** An alarm event's points; without it the sink does not read the alarms topic. */
  alarmPoints?(event: AlarmEvent): P[];
  /** An operator's alarm action's points; without it the sink does not read the alarm-actions topic. */
  alarmActionPoints?(action: AlarmAction): P[];
  /**
   * Writes every point, or throws. A {@link SinkWriteError} that is not retriable means the server
   * refused the batch for good: the seam halves it until each refused point is alone and dead-letters
   * those (`sink_rejected`). Any other error (outage, timeout, throttling) is retried with backoff, and
   * intake pauses meanwhile. A server that names the refused points itself (OpenTSDB's `?details`)
   * returns them instead of throwing; the rest of the batch counts as written. Writes must be idempotent
   * per point: after a crash or a split a point is written again and must overwrite itself.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: a plain async write (Promise<void>) must be assignable
  write(points: P[]): Promise<void | PointRefusal[]>;
  /** Closes connections; called once at stop after the last write returned. */
  close(): Promise<void>;
}
