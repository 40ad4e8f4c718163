import { type InfluxSink, InfluxWriteError } from '@gridstream/influx';
import type { BatchItem, RejectedItem } from './line-batcher.js';

/**
 * Writes a batch; when InfluxDB refuses it for good (400: a field type conflict, a point outside the
 * retention policy; 413: too large), halves it until the refused points are alone, so only those go to
 * the DLQ and every good point in the same batch is still written. Points resent during the search
 * overwrite themselves. Retriable errors (outage, auth, throttling) are thrown for the caller to retry.
 */
export async function writeWithSplit<T>(sink: InfluxSink, items: BatchItem<T>[]): Promise<RejectedItem<T>[]> {
  if (items.length === 0) return [];
  try {
    await sink.write(items.map((i) => i.line));
    return [];
  } catch (error) {
    if (!(error instanceof InfluxWriteError) || error.retriable) throw error;
    if (items.length === 1) return [{ ref: items[0]!.ref, message: error.influxMessage }];
    const mid = items.length >> 1;
    const left = await writeWithSplit(sink, items.slice(0, mid));
    const right = await writeWithSplit(sink, items.slice(mid));
    return [...left, ...right];
  }
}
