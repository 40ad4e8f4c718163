/**
 * Which fetched records belong to aborted transactions, the way Kafka's own Java consumer decides it.
 *
 * Why this exists: kafkajs 2.2.4 (`src/consumer/filterAbortedMessages.js`) assumes the fetch response lists
 * aborted transactions sorted by first offset and activates at most one per record. The broker lists them
 * in the order they were aborted (the transaction index), so when a transaction that started earlier is
 * aborted later than one that started after it, kafkajs hands the earlier one's records to a
 * read_committed consumer as if they were committed. The soak caught exactly that: two parser instances'
 * transactions interleaved on one parsed partition during a rebalance, both were aborted, and the archiver
 * and the Influx writer stored the records of one of them, duplicates of the readings the survivor then
 * committed. `kafkajs.ts` installs this filter in place of kafkajs's own.
 */

/** A fetched record as kafkajs decodes it (only what the filter reads). */
export interface FetchedRecord {
  offset: string;
  key: Buffer | null;
  isControlRecord?: boolean;
  batchContext: { producerId: string; inTransaction: boolean };
}

/** An entry of a fetch response's aborted-transactions list. */
export interface AbortedTransaction {
  producerId: string;
  firstOffset: string;
}

/** Control record key: int16 version, int16 type; type 0 is ABORT, 1 is COMMIT. */
function isAbortMarker(record: FetchedRecord): boolean {
  const key = record.key;
  return key != null && key.length >= 4 && key.readInt16BE(2) === 0;
}

/**
 * The records that are not part of an aborted transaction, in their order. Control records are kept
 * (kafkajs drops them after this filter, and reads its end-of-batch offsets from them).
 * Java's Fetcher: before each record, every aborted transaction whose first offset is at or below it joins
 * the aborted set of producers; a transactional record of a producer in the set is dropped; that
 * producer's abort marker takes it out of the set again.
 */
export function filterAbortedRecords<R extends FetchedRecord>(
  records: R[],
  abortedTransactions: AbortedTransaction[] | null | undefined,
): R[] {
  if (!abortedTransactions || abortedTransactions.length === 0) return records;
  const pending = abortedTransactions
    .map((t) => ({ producerId: String(t.producerId), firstOffset: BigInt(t.firstOffset) }))
    .sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  const aborting = new Set<string>();
  let next = 0;
  return records.filter((record) => {
    const offset = BigInt(record.offset);
    while (next < pending.length && (pending[next] as { firstOffset: bigint }).firstOffset <= offset) {
      aborting.add((pending[next] as { producerId: string }).producerId);
      next++;
    }
    const producerId = String(record.batchContext.producerId);
    if (record.isControlRecord) {
      if (isAbortMarker(record)) aborting.delete(producerId);
      return true;
    }
    return !(record.batchContext.inTransaction && aborting.has(producerId));
  });
}
