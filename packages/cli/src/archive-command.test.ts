import { describe, expect, it } from 'vitest';
import { verifyProgressPrinter } from './archive-command.js';

describe('archive verify progress on stderr', () => {
  it('says each stage once, and a fetch of many files at every tenth and at its end', () => {
    const lines: string[] = [];
    const print = verifyProgressPrinter((l) => lines.push(l));
    print({ stage: 'listed', windowFiles: 25, exportFiles: 2 });
    for (let done = 1; done <= 25; done++) print({ stage: 'fetching', done, toFetch: 25 });
    print({ stage: 'reading', files: 25 });
    print({ stage: 'kafka', ranges: 3 });
    print({ stage: 'duplicates' });
    expect(lines).toEqual([
      '25 archiver file(s) in the range, 2 export file(s)',
      // 25 files: the tenths are crossed at 1 (0/10 → first line), 3, 5, 8, 10, 13, 15, 18, 20, 23, then the end.
      ...[1, 3, 5, 8, 10, 13, 15, 18, 20, 23, 25].map((n) => `fetched ${n}/25 file(s) into the cache`),
      'reading the offsets of 25 file(s)',
      'asking Kafka which of 3 missing offset range(s) held records',
      'looking for readings archived twice',
    ]);
  });

  it('a second fetch (the export files) starts its tenths again', () => {
    const lines: string[] = [];
    const print = verifyProgressPrinter((l) => lines.push(l));
    print({ stage: 'fetching', done: 1, toFetch: 1 });
    print({ stage: 'fetching', done: 1, toFetch: 2 });
    print({ stage: 'fetching', done: 2, toFetch: 2 });
    expect(lines).toEqual([
      'fetched 1/1 file(s) into the cache',
      'fetched 1/2 file(s) into the cache',
      'fetched 2/2 file(s) into the cache',
    ]);
  });
});
