import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream';
import { type CsvError, type Options, parse } from 'csv-parse';
import iconv from 'iconv-lite';
import type { Encoding } from './encoding.js';
import type { RowEvent, Table } from './table.js';

/**
 * A CSV file as a stream of rows: file → (iconv-lite decoder) → csv-parse, consumed with `for await`, so the
 * file is read only as fast as the consumer (and behind it the sink) takes rows — Node's stream buffers
 * are the only read-ahead (a few hundred KiB), whatever the file size.
 *
 * Line numbers are physical lines of the file (1-based, header included), taken from csv-parse's line
 * counter, so a quoted field spanning lines does not shift the numbers of the rows after it.
 */

export interface CsvSourceOptions {
  path: string;
  encoding: Encoding;
  /** Bytes to skip at the start (a byte-order mark). */
  startByte: number;
  /** Source label for rejects and headers: `file://<basename>`. */
  source: string;
}

interface ParsedRow {
  line: number;
  cells: string[];
}

/** Opens the file; the table's header is its first record. `bytesRead()` is the reader's position. */
export async function openCsv(options: CsvSourceOptions): Promise<{ table: Table; bytesRead: () => number }> {
  const file = createReadStream(options.path, { start: options.startByte, highWaterMark: 256 * 1024 });
  let lastEnd = 0;
  // Parse errors arrive through a callback while records queue in the stream: kept here and merged by line.
  const malformed: RowEvent[] = [];
  const parserOptions: Options<ParsedRow, string[]> = {
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    // Without it, one stray quote (`"a"b`) puts csv-parse out of step and it swallows every following line
    // into errors until the next quote; with it the cell is kept as text (and fails only if it is a value).
    relax_quotes: true,
    // csv-parse would strip a BOM only at the very start; we already skipped it by bytes.
    bom: false,
    on_record: (record: string[], context): ParsedRow => {
      const end = context.lines;
      const line = end === lastEnd + 1 ? end : end - newlinesIn(record);
      lastEnd = end;
      return { line, cells: record };
    },
    on_skip: (error: CsvError | undefined) => {
      // Everything from the line after the last good record up to where the error was seen is lost as one
      // unit (csv-parse resynchronises at the next record), so the reject names the whole range.
      const at = typeof error?.lines === 'number' ? error.lines : lastEnd + 1;
      const from = Math.min(lastEnd + 1, at);
      malformed.push({
        kind: 'malformed',
        line: from,
        lastLine: at,
        detail: `${from === at ? `line ${at}` : `lines ${from}–${at}`} could not be read as CSV: ${error?.message ?? 'parse error'}`,
      });
      lastEnd = at;
    },
  };
  // The typings tie on_record's result to the `columns` option; the record shape is ours (ParsedRow).
  const parser = parse(parserOptions as unknown as Options);
  // pipeline destroys every stage when one fails or the consumer stops early (a preview), closing the file.
  // UTF-8 bytes go to csv-parse as they are: it splits bytes and decodes each field itself (also across
  // chunk boundaries), so decoding to a string first would only make it encode the string back (measured:
  // ~15% of the import's CPU). The Korean code pages are decoded by iconv-lite on the way in.
  if (options.encoding === 'utf-8') pipeline(file, parser, () => undefined);
  else pipeline(file, iconv.decodeStream(options.encoding, { stripBOM: false }), parser, () => undefined);

  const iterator = parser[Symbol.asyncIterator]() as AsyncIterator<ParsedRow>;
  const first = await iterator.next();
  const header: ParsedRow | undefined = first.done ? undefined : first.value;

  async function* rows(): AsyncGenerator<RowEvent> {
    // Errors before the header (an unreadable first line) are reported too.
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      const row = next.value;
      while (malformed.length > 0 && malformed[0]!.line < row.line) yield malformed.shift()!;
      yield { kind: 'row', line: row.line, cells: row.cells };
    }
    while (malformed.length > 0) yield malformed.shift()!;
  }

  return {
    table: {
      source: options.source,
      header: header?.cells ?? [],
      headerLine: header?.line ?? 1,
      strictColumnCount: true,
      rows: rows(),
      close: () => {
        parser.destroy();
        file.destroy();
      },
    },
    bytesRead: () => file.bytesRead,
  };
}

function newlinesIn(record: string[]): number {
  let n = 0;
  for (const cell of record) {
    let i = cell.indexOf('\n');
    while (i >= 0) {
      n++;
      i = cell.indexOf('\n', i + 1);
    }
  }
  return n;
}
