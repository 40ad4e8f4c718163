import type { BatchItem, RejectedItem } from './point-batcher.js';
import type { PointRefusal } from './sink-target.js';
import { SinkWriteError } from './sink-write-error.js';

/**
 * Writes a batch; when the server refuses it for good (InfluxDB's 400 for a field type conflict, a
 * PostgreSQL data exception), halves it until the refused points are alone, so only those go to the DLQ and
 * every good point in the same batch is still written. Points resent during the search overwrite
 * themselves (every sink's writes are idempotent per point). A server that names the refused points itself
 * answers without a search. Retriable errors (outage, auth, throttling) are thrown for the caller to retry.
 */
export async function writeWithSplit<P, T>(
  // biome-ignore lint/suspicious/noConfusingVoidType: a plain async write (Promise<void>) must be assignable
  write: (points: P[]) => Promise<void | PointRefusal[]>,
  items: BatchItem<P, T>[],
): Promise<RejectedItem<T>[]> {
  if (items.length === 0) return [];
  try {
    const refusals = await write(items.map((i) => i.point));
    if (!refusals || refusals.length === 0) return [];
    const rejected: RejectedItem<T>[] = [];
    for (const r of refusals) {
      const item = items[r.index];
      // A refusal the target could not place would otherwise vanish: the whole batch is retried instead.
      if (item === undefined)
        throw new Error(`sink named refused point #${r.index} of a batch of ${items.length}`);
      rejected.push({ ref: item.ref, message: r.message });
    }
    return rejected;
  } catch (error) {
    if (!(error instanceof SinkWriteError) || error.retriable) throw error;
    if (items.length === 1) return [{ ref: items[0]!.ref, message: error.serverMessage }];
    const mid = items.length >> 1;
    const left = await writeWithSplit(write, items.slice(0, mid));
    const right = await writeWithSplit(write, items.slice(mid));
    return [...left, ...right];
  }
}
