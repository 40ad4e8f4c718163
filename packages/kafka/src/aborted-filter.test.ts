import { describe, expect, it } from 'vitest';
import { type FetchedRecord, filterAbortedRecords } from './aborted-filter.js';

const ABORT = Buffer.from([0, 0, 0, 0]);
const COMMIT = Buffer.from([0, 0, 0, 1]);

function data(offset: number, producerId: string, inTransaction = true): FetchedRecord {
  return { offset: String(offset), key: Buffer.from('k'), batchContext: { producerId, inTransaction } };
}
function marker(offset: number, producerId: string, key: Buffer): FetchedRecord {
  return {
    offset: String(offset),
    key,
    isControlRecord: true,
    batchContext: { producerId, inTransaction: true },
  };
}
const offsets = (records: FetchedRecord[]) =>
  records.filter((r) => !r.isControlRecord).map((r) => Number(r.offset));

describe('filterAbortedRecords', () => {
  it('drops an earlier-started transaction that the broker lists after a later-started one', () => {
    // The soak's case: producer 2005 began at 21945, 1004 at 21947; 1004 aborted first, so it is listed first.
    const records = [data(21945, '2005'), data(21946, '2005'), data(21947, '1004'), data(21948, '1004')];
    records.push(marker(21949, '1004', ABORT), marker(21950, '2005', ABORT), data(21951, '1004'));
    const aborted = [
      { producerId: '1004', firstOffset: '21947' },
      { producerId: '2005', firstOffset: '21945' },
    ];
    expect(offsets(filterAbortedRecords(records, aborted))).toEqual([21951]);
  });

  it('activates every transaction that began before the fetch offset at the first record', () => {
    const records = [
      data(10, '1'),
      data(11, '2'),
      marker(12, '1', ABORT),
      marker(13, '2', ABORT),
      data(14, '2'),
    ];
    const aborted = [
      { producerId: '1', firstOffset: '3' },
      { producerId: '2', firstOffset: '5' },
    ];
    expect(offsets(filterAbortedRecords(records, aborted))).toEqual([14]);
  });

  it('keeps committed transactions, non-transactional records and producers not listed', () => {
    const records = [data(0, '1'), marker(1, '1', COMMIT), data(2, '1'), data(3, '9', false), data(4, '7')];
    records.push(marker(5, '1', ABORT), data(6, '1'), marker(7, '7', COMMIT));
    expect(offsets(filterAbortedRecords(records, [{ producerId: '1', firstOffset: '2' }]))).toEqual([
      0, 3, 4, 6,
    ]);
  });

  it('returns the records untouched when nothing was aborted', () => {
    const records = [data(0, '1'), marker(1, '1', COMMIT)];
    expect(filterAbortedRecords(records, [])).toBe(records);
    expect(filterAbortedRecords(records, undefined)).toBe(records);
  });
});
