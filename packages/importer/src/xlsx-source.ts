import { createReadStream, type ReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import type { Cell, RowEvent, Table } from './table.js';

/**
 * An .xlsx workbook as tables, one per sheet, read with exceljs's streaming WorkbookReader: rows are parsed
 * from the zip as they are consumed, never a whole sheet in memory. The first non-empty row of a sheet is
 * its header; line numbers are Excel's row numbers. The old tool read the first sheet only; here all sheets
 * are read unless some are chosen.
 */

export interface XlsxSourceOptions {
  path: string;
  /** Default DEFAULT_XLSX_LIMITS. */
  limits?: XlsxLimits;
  /** `file://<basename>`; each table's source gets `#<sheet>` appended. */
  source: string;
  /** Sheets to read (empty = all). */
  sheets: readonly string[];
}

export class SheetNotFoundError extends Error {
  override name = 'SheetNotFoundError';
}

/** exceljs and its unzipper report a damaged file as `FILE_ENDED` or a zip internals message. */
export class WorkbookReadError extends Error {
  override name = 'WorkbookReadError';
}

function readError(error: unknown): WorkbookReadError {
  const message = (error as Error)?.message ?? String(error);
  return new WorkbookReadError(`not a readable .xlsx workbook (truncated or damaged?): ${message}`);
}

/** A workbook whose parts unpack to more than a limit allows (a zip bomb, or just too big to take). */
export class WorkbookTooLargeError extends WorkbookReadError {
  override name = 'WorkbookTooLargeError';
}

export interface XlsxLimits {
  /** Unpacked size of `xl/sharedStrings.xml`, which exceljs holds in memory whole (as JS strings, ~2×). */
  sharedStringsBytes: number;
  /** Unpacked size of all parts together (sheets before the shared strings go to temporary files). */
  totalBytes: number;
}

const MiB = 1024 * 1024;
export const DEFAULT_XLSX_LIMITS: XlsxLimits = { sharedStringsBytes: 128 * MiB, totalBytes: 4096 * MiB };

// exceljs's own zip reader (a dependency of exceljs), so the check sees the parts exactly as exceljs will.
const require = createRequire(import.meta.url);
const unzipper = require('unzipper') as { Parse(options: { forceStream: boolean }): NodeJS.ReadWriteStream };

/**
 * Unpacks the workbook once, counting, before exceljs reads it: a 3 MB upload whose shared-strings part
 * unpacks to 1 GB took the preview to 1.3 GB of memory. Sizes are counted from the inflated bytes, not
 * taken from the zip's headers, which a crafted file can fill with anything.
 */
export async function checkXlsxSizes(path: string, limits: XlsxLimits = DEFAULT_XLSX_LIMITS): Promise<void> {
  const file = createReadStream(path, { highWaterMark: 256 * 1024 });
  const zip = unzipper.Parse({ forceStream: true });
  file.on('error', (error) => zip.emit('error', error));
  file.pipe(zip);
  let total = 0;
  try {
    for await (const entry of zip as AsyncIterable<NodeJS.ReadableStream & { path: string }>) {
      const cap =
        entry.path === 'xl/sharedStrings.xml' ? limits.sharedStringsBytes : Number.POSITIVE_INFINITY;
      let size = 0;
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        size += chunk.length;
        total += chunk.length;
        if (size > cap)
          throw new WorkbookTooLargeError(
            `the workbook's shared strings unpack to more than ${cap / MiB} MiB; save it as CSV or split it`,
          );
        if (total > limits.totalBytes)
          throw new WorkbookTooLargeError(
            `the workbook unpacks to more than ${limits.totalBytes / MiB} MiB; save it as CSV or split it`,
          );
      }
    }
  } catch (error) {
    throw error instanceof WorkbookReadError ? error : readError(error);
  } finally {
    file.destroy();
  }
}

/**
 * exceljs reads the zip with unzipper 0.10, whose Parse stream emits 'end' as soon as its writable side
 * finishes — once the last bytes of the file are parsed — while entries it already parsed may still wait in
 * its (paused) readable buffer; exceljs takes that 'end' for the last entry. A consumer slower than the
 * parser (a loaded machine, rows waiting for Kafka's acks) then lost the rest of the workbook: later sheets
 * without a word, or, with xl/workbook.xml among them, the whole file as "not a readable .xlsx workbook:
 * Cannot read properties of undefined (reading 'sheets')" — the Excel imports that now and then sent 0 rows.
 * This lets only the readable side's own 'end' through (emitted after everything buffered was read; a
 * truncated file still fails, with unzipper's FILE_ENDED).
 */
function withoutEarlyEnd(file: ReadStream): void {
  const pipe = file.pipe.bind(file);
  file.pipe = (<T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T => {
    const zip = destination as unknown as Readable;
    const emit = zip.emit.bind(zip);
    zip.emit = (event: string | symbol, ...args: unknown[]): boolean =>
      event === 'end' && zip.readableEnded === false ? false : emit(event, ...args);
    return pipe(destination, options);
  }) as typeof file.pipe;
}

/** Pulls the next row, naming a damaged file as such. */
async function nextRow(rows: AsyncIterator<ExcelJS.Row>): Promise<IteratorResult<ExcelJS.Row>> {
  try {
    return await rows.next();
  } catch (error) {
    throw readError(error);
  }
}

/**
 * Yields the chosen sheets in workbook order. Sheets not chosen are still parsed (the zip is read in order)
 * but their rows are dropped. After the last sheet, a chosen sheet that was not there throws.
 */
export async function* openXlsx(
  options: XlsxSourceOptions,
  onOpen: (file: ReadStream) => void,
): AsyncGenerator<Table> {
  await checkXlsxSizes(options.path, options.limits);
  const file = createReadStream(options.path, { highWaterMark: 256 * 1024 });
  // The caller reads progress from file.bytesRead; a 'data' listener here would start the stream flowing
  // before exceljs is attached and lose the first chunks.
  onOpen(file);
  withoutEarlyEnd(file);
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(file, {
    worksheets: 'emit',
    sharedStrings: 'cache',
    // Styles tell dates from numbers (a date is a number with a date format).
    styles: 'cache',
    hyperlinks: 'ignore',
    entries: 'emit',
  });
  const seen: string[] = [];
  const sheets = reader[Symbol.asyncIterator]();
  try {
    for (;;) {
      let step: IteratorResult<unknown>;
      try {
        step = await sheets.next();
      } catch (error) {
        throw readError(error);
      }
      if (step.done) break;
      const sheet = step.value;
      const name = String((sheet as unknown as { name?: string }).name ?? `Sheet${seen.length + 1}`);
      seen.push(name);
      const wanted = options.sheets.length === 0 || options.sheets.includes(name);
      const rowIterator = (sheet as unknown as AsyncIterable<ExcelJS.Row>)[Symbol.asyncIterator]();
      if (!wanted) {
        for (;;) if ((await nextRow(rowIterator)).done) break;
        continue;
      }
      // exceljs skips empty rows, so the first row it yields is the first non-empty one: the header.
      const first = await nextRow(rowIterator);
      const header = first.done ? undefined : { line: first.value.number, cells: rowCells(first.value) };
      let done = header === undefined;
      async function* rows(): AsyncGenerator<RowEvent> {
        while (!done) {
          const next = await nextRow(rowIterator);
          if (next.done) break;
          yield { kind: 'row', line: next.value.number, cells: rowCells(next.value) };
        }
        done = true;
      }
      const table: Table = {
        source: `${options.source}#${name}`,
        sheet: name,
        header: header?.cells ?? [],
        headerLine: header?.line ?? 1,
        strictColumnCount: false,
        rows: rows(),
        close: () => undefined,
      };
      yield table;
      // Whatever the consumer left of this sheet must still be read before the next sheet's entry.
      while (!done) {
        const next = await nextRow(rowIterator);
        if (next.done) done = true;
      }
    }
  } finally {
    file.destroy();
  }
  const missing = options.sheets.filter((s) => !seen.includes(s));
  if (missing.length > 0) {
    throw new SheetNotFoundError(
      `sheet${missing.length > 1 ? 's' : ''} ${missing.map((s) => JSON.stringify(s)).join(', ')} not in the workbook; its sheets are ${seen.map((s) => JSON.stringify(s)).join(', ')}`,
    );
  }
}

/** exceljs row values are 1-based and sparse; formulas, rich text and links are reduced to their value. */
function rowCells(row: ExcelJS.Row): Cell[] {
  const values = row.values as unknown[];
  const cells: Cell[] = new Array(Math.max(0, values.length - 1));
  for (let i = 1; i < values.length; i++) cells[i - 1] = cellValue(values[i]);
  return cells;
}

function cellValue(v: unknown): Cell {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v instanceof Date) return v;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if ('result' in o) return cellValue(o.result);
    if (Array.isArray(o.richText)) return o.richText.map((r: { text?: string }) => r.text ?? '').join('');
    if (typeof o.text === 'string') return o.text;
    // An error cell (#DIV/0!) has no value: the row is rejected as a non-number where it matters.
    if ('error' in o) return String(o.error);
  }
  return String(v);
}
