import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { type ImportBatch, SampleBatcher } from './batcher.js';
import { openImportFile } from './open-file.js';
import { type ImportOptions, type ImportOptionsInput, parseImportOptions } from './options.js';
import { type Reject, RejectLog } from './rejects.js';
import { createRowMapper, MappingError, type RowMapper } from './row-mapper.js';
import type { ImportSink } from './sink.js';

/**
 * importFiles: files → rows → samples → sink (which makes the samples.v1 messages: the source seam's
 * envelope), one file after another. Reading is pulled by the loop below, and the loop waits for the sink
 * whenever a full batch is ready while the previous one is still unacknowledged — so the reader never runs
 * more than one batch ahead of Kafka, and memory stays flat whatever the file size.
 */

export interface ImportProgress {
  /** The file being read (its path as given). */
  file: string;
  /** Counts over the whole import so far (all files). */
  rowsRead: number;
  rowsSent: number;
  rowsRejected: number;
  bytesRead: number;
  bytesTotal: number;
  /** True on the last report, after everything is acknowledged. */
  done: boolean;
}

export interface FileSummary {
  file: string;
  format?: 'csv' | 'xlsx';
  encoding?: string;
  /** Excel sheets read. */
  sheets?: string[];
  bytes: number;
  rowsRead: number;
  rowsSent: number;
  rowsRejected: number;
  messagesSent: number;
  /** Set when the file could not be imported (or not completely): missing columns, unreadable, … */
  error?: string;
}

export interface ImportSummary {
  files: FileSummary[];
  rowsRead: number;
  rowsSent: number;
  rowsRejected: number;
  messagesSent: number;
  /** The first `maxRejects` rejects, in the order met. */
  rejects: Reject[];
  /** All rejects, including those not listed. */
  rejectsTotal: number;
  durationMs: number;
}

/** The sink failed (Kafka unreachable beyond its retries): the import stopped; `summary` says how far it got. */
export class ImportAbortedError extends Error {
  override name = 'ImportAbortedError';
  constructor(
    readonly summary: ImportSummary,
    override readonly cause: unknown,
  ) {
    super(
      `import stopped: the sink failed after ${summary.rowsSent} rows were sent (${(cause as Error)?.message ?? cause})`,
    );
  }
}

const PROGRESS_INTERVAL_MS = 100;
/** Messages' worth of samples per sink call: large enough for few produce requests, small enough to stay flat. */
const MESSAGES_PER_SEND = 8;

export async function importFiles(
  input: ImportOptionsInput | ImportOptions,
  sink: ImportSink,
  onProgress?: (p: ImportProgress) => void,
): Promise<ImportSummary> {
  const options = parseImportOptions(input);
  const started = Date.now();
  const rejects = new RejectLog(options.maxRejects);
  const files: FileSummary[] = options.files.map((f) => ({
    file: f,
    bytes: 0,
    rowsRead: 0,
    rowsSent: 0,
    rowsRejected: 0,
    messagesSent: 0,
  }));
  let bytesTotal = 0;
  for (const f of files) {
    f.bytes = await stat(f.file).then(
      (s) => s.size,
      () => 0,
    );
    bytesTotal += f.bytes;
  }
  const totals = { rowsRead: 0, rowsSent: 0, rowsRejected: 0, bytesDone: 0 };
  let currentFile = options.files[0]!;
  let currentBytes = () => 0;
  let lastReport = 0;
  const report = (done: boolean) => {
    if (!onProgress) return;
    lastReport = Date.now();
    onProgress({
      file: currentFile,
      rowsRead: totals.rowsRead,
      rowsSent: totals.rowsSent,
      rowsRejected: totals.rowsRejected,
      bytesRead: done ? bytesTotal : Math.min(bytesTotal, totals.bytesDone + currentBytes()),
      bytesTotal,
      done,
    });
  };
  const publisher = new Publisher(sink, options.samplesPerMessage, (batch, file, messages) => {
    file.rowsSent += batch.samples.length;
    file.messagesSent += messages;
    totals.rowsSent += batch.samples.length;
  });
  const summarize = (): ImportSummary => ({
    files,
    rowsRead: totals.rowsRead,
    rowsSent: totals.rowsSent,
    rowsRejected: totals.rowsRejected,
    messagesSent: files.reduce((n, f) => n + f.messagesSent, 0),
    rejects: rejects.kept,
    rejectsTotal: rejects.total,
    durationMs: Date.now() - started,
  });

  try {
    for (const summary of files) {
      currentFile = summary.file;
      currentBytes = () => 0;
      // Outside the try: rows already mapped when a file fails midway are still sent, not lost.
      let batcher: SampleBatcher | undefined;
      let lastLine = 0;
      try {
        const opened = await openImportFile(summary.file, options);
        summary.format = opened.format;
        if (opened.encoding) summary.encoding = opened.encoding;
        currentBytes = opened.bytesRead;
        for await (const table of opened.tables) {
          if (table.sheet !== undefined) summary.sheets = [...(summary.sheets ?? []), table.sheet];
          let mapper: RowMapper;
          try {
            if (table.header.length === 0)
              throw new MappingError('no header row: the file or sheet is empty');
            mapper = createRowMapper(table, options);
          } catch (error) {
            if (!(error instanceof MappingError)) throw error;
            // One sheet without the chosen columns does not stop the workbook's other sheets.
            const where = table.sheet === undefined ? '' : `sheet ${JSON.stringify(table.sheet)}: `;
            summary.error = summary.error
              ? `${summary.error}; ${where}${error.message}`
              : `${where}${error.message}`;
            continue;
          }
          batcher = new SampleBatcher(
            table.source,
            `import:${opened.fileId}.${mappingId(options)}${table.sheet === undefined ? '' : `#${table.sheet}`}`,
            options.samplesPerMessage * MESSAGES_PER_SEND,
          );
          let tick = 0;
          for await (const event of table.rows) {
            if (event.kind === 'malformed') {
              summary.rowsRejected++;
              totals.rowsRejected++;
              rejects.add({
                file: table.source,
                line: event.line,
                reason: 'malformed_csv',
                detail: event.detail,
              });
              continue;
            }
            summary.rowsRead++;
            totals.rowsRead++;
            lastLine = event.line;
            const result = mapper(event.cells);
            if (result.ok) {
              const full = batcher.add(result.sample, event.line);
              if (full) await publisher.push(full, summary);
            } else {
              summary.rowsRejected++;
              totals.rowsRejected++;
              rejects.add({
                file: table.source,
                line: event.line,
                reason: result.reason,
                detail: result.detail,
              });
            }
            if (++tick === 256) {
              tick = 0;
              if (Date.now() - lastReport >= PROGRESS_INTERVAL_MS) report(false);
            }
          }
          await publisher.push(batcher.flush(), summary);
        }
      } catch (error) {
        if (error instanceof SinkError) throw error;
        const message = (error as Error).message ?? String(error);
        summary.error = lastLine > 0 ? `${message} (reading stopped after line ${lastLine})` : message;
        if (batcher) await publisher.push(batcher.flush(), summary);
      } finally {
        totals.bytesDone += summary.bytes;
        currentBytes = () => 0;
      }
    }
    await publisher.finish();
  } catch (error) {
    await publisher.settle();
    throw new ImportAbortedError(summarize(), error instanceof SinkError ? error.cause : error);
  }
  report(true);
  return summarize();
}

class SinkError extends Error {
  constructor(override readonly cause: unknown) {
    super((cause as Error)?.message ?? String(cause));
  }
}

/**
 * One sink call in flight while the next batch fills: reading and sending overlap, and a full batch waits
 * for the previous acknowledgement — that wait is the backpressure that stops the reader.
 */
class Publisher {
  private inFlight: Promise<void> | undefined;
  private failure: SinkError | undefined;

  constructor(
    private readonly sink: ImportSink,
    private readonly samplesPerMessage: number,
    private readonly onAcked: (batch: ImportBatch, file: FileSummary, messages: number) => void,
  ) {}

  async push(batch: ImportBatch | undefined, file: FileSummary): Promise<void> {
    if (batch === undefined) return;
    await this.settle();
    if (this.failure) throw this.failure;
    this.inFlight = this.sink
      .send(batch.samples, {
        source: batch.source,
        maxSamplesPerMessage: this.samplesPerMessage,
        messageId: batch.messageId,
      })
      .then(
        (messages) => this.onAcked(batch, file, messages),
        (error: unknown) => {
          this.failure = new SinkError(error);
        },
      );
  }

  async finish(): Promise<void> {
    await this.settle();
    if (this.failure) throw this.failure;
  }

  /** Waits for the call in flight without throwing (used on the way out after an error). */
  async settle(): Promise<void> {
    if (this.inFlight) await this.inFlight;
  }
}

/** For messages and logs: the file's base name. */
export function displayName(path: string): string {
  return basename(path);
}

/**
 * The part of a message id that says how the file was read. The same file imported again the same way
 * gives the same ids, and the parser drops the copy (a second row of the same reading would double it in
 * the archive); imported again with another mapping (a corrected zone, other columns) it gives new ids,
 * so the corrected records are not taken for copies of the old ones.
 */
function mappingId(options: ImportOptions): string {
  const mapping = [
    options.timeColumn,
    options.timeFormat,
    options.timeZone,
    options.valueColumns.join('|'),
    options.deviceColumn ?? '',
    options.device ?? '',
    options.site,
    options.equipment,
    options.samplesPerMessage,
  ].join('\u0000');
  return createHash('sha256').update(mapping).digest('hex').slice(0, 8);
}
