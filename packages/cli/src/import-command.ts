import { basename } from 'node:path';
import { ProgressBar } from '@gridstream/archive-tools';
import { loadConfig } from '@gridstream/config';
import {
  CountingSink,
  checkImportOptions,
  ImportAbortedError,
  ImportOptionsError,
  type ImportOptionsInput,
  type ImportProgress,
  type ImportSink,
  type ImportSummary,
  importFiles,
  openKafkaImportSink,
  previewFile,
  REJECT_REASONS,
} from '@gridstream/importer';
import { checkKafkaEnv, kafkaEnvShape } from '@gridstream/kafka';
import { createLogger } from '@gridstream/runtime';
import { z } from 'zod';
import {
  type CommandIo,
  EXIT_USAGE,
  type Out,
  parseCommandArgs,
  runCommand,
  UsageError,
  wantsHelp,
} from './archive-cli-io.js';

const USAGE = `gridstream import <file>… --time-column COL --values 'A|B|C' (--device-column COL | --device ID)
                  --site SITE --measurement NAME [--time-format auto] [--zone UTC] [--encoding auto]
                  [--format auto|csv|xlsx] [--sheet NAME]… [--samples-per-message 500] [--max-rejects 1000]
                  [--dry-run] [--no-progress]

  Streams CSV and .xlsx files into samples.v1 messages on the raw topic (KAFKA_TOPIC_RAW), one sample per
  row, through the parser and writer like any other source. Details: docs/import.md.
  --values          value columns: 'A|B|C' or the flag repeated; empty cells skip the field
  --device-column   the column with each row's device id (read per row); or --device ID for all rows
  --measurement     the equipment name = InfluxDB measurement, lower snake case (vehicle, pcs, …)
  --time-format     auto (per value) | 'YYYY-MM-DD HH:mm:ss' | iso | ampm | 14digit | epoch_s | epoch_ms
  --zone            IANA zone of times without an offset (default UTC), e.g. Asia/Seoul
  --encoding        auto (detected) | utf-8 | euc-kr | cp949 (CSV only)
  --sheet           Excel sheet to read (repeatable); default all sheets
  --dry-run         read and check everything, send nothing; shows the first samples
  Exit codes: 0 every row sent; 3 some rows rejected (the rest sent, rejects listed); 1 a file could not
  be imported or Kafka failed; 2 usage; 78 configuration.`;

/** Some rows were rejected; everything else was imported. Distinct from usage (2) and failure (1). */
export const EXIT_REJECTS = 3;

const FLAG_OF: Record<string, string> = {
  files: '<file>…',
  timeColumn: '--time-column',
  timeFormat: '--time-format',
  timeZone: '--zone',
  valueColumns: '--values',
  deviceColumn: '--device-column',
  device: '--device',
  site: '--site',
  equipment: '--measurement',
  encoding: '--encoding',
  format: '--format',
  sheets: '--sheet',
  samplesPerMessage: '--samples-per-message',
  maxRejects: '--max-rejects',
};

const kafkaSchema = z.object(kafkaEnvShape).superRefine(checkKafkaEnv);

/** How often a line is logged when stderr is not a terminal (CI, a log file). */
const LOG_EVERY_MS = 10_000;

function positiveInt(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`${flag} must be a positive integer`);
  return Number(text);
}

/** `gridstream import …`; `argv` starts after `import`. Returns the exit code; never throws. */
export async function runImportCommand(argv: string[], out: Out, io: CommandIo = {}): Promise<number> {
  const err = io.err ?? process.stderr;
  if (argv.length === 0 || wantsHelp(argv)) {
    out.write(`${USAGE}\n\nReject reasons:\n${reasonList()}\n`);
    return argv.length === 0 ? EXIT_USAGE : 0;
  }
  return runCommand('import', USAGE, out, err, async () => {
    const { values, positionals } = parseCommandArgs(argv, {
      'time-column': { type: 'string' },
      values: { type: 'string', multiple: true },
      'device-column': { type: 'string' },
      device: { type: 'string' },
      site: { type: 'string' },
      measurement: { type: 'string' },
      'time-format': { type: 'string' },
      zone: { type: 'string' },
      encoding: { type: 'string' },
      format: { type: 'string' },
      sheet: { type: 'string', multiple: true },
      'samples-per-message': { type: 'string' },
      'max-rejects': { type: 'string' },
      'dry-run': { type: 'boolean' },
      'no-progress': { type: 'boolean' },
    });
    const input: ImportOptionsInput = {
      files: positionals,
      timeColumn: values['time-column'] ?? '',
      valueColumns: (values.values ?? []).flatMap((v) => v.split('|')),
      deviceColumn: values['device-column'] ?? null,
      device: values.device,
      site: values.site ?? '',
      equipment: values.measurement ?? '',
      timeFormat: values['time-format'] as ImportOptionsInput['timeFormat'],
      timeZone: values.zone,
      encoding: values.encoding as ImportOptionsInput['encoding'],
      format: values.format as ImportOptionsInput['format'],
      sheets: values.sheet ?? [],
      samplesPerMessage: positiveInt(values['samples-per-message'], '--samples-per-message'),
      maxRejects: positiveInt(values['max-rejects'], '--max-rejects'),
    };
    // Unset flags must fall back to the schema defaults, not arrive as explicit undefined-but-present keys.
    for (const key of Object.keys(input) as (keyof ImportOptionsInput)[]) {
      if (input[key] === undefined) delete input[key];
    }

    const dryRun = values['dry-run'] === true;
    let sink: ImportSink;
    let close: () => Promise<void> = async () => undefined;
    let target: string;
    if (dryRun) {
      sink = new CountingSink();
      target = 'nowhere (dry run)';
    } else {
      // Options first: a mistyped flag should not wait for a Kafka connection to be reported.
      await validate(input);
      const cfg = loadConfig(kafkaSchema, io.env ?? process.env);
      // The source seam's direct outbox: each batch waits for Kafka's acks (acks=all, idempotent), which is
      // what the progress reports as sent; the raw topic is created on the first send where allowed.
      const kafkaSink = await openKafkaImportSink({
        config: cfg,
        logger: createLogger({ service: 'cli', level: 'error' }),
      });
      sink = kafkaSink;
      close = () => kafkaSink.close();
      target = `${cfg.KAFKA_TOPIC_RAW} (${cfg.KAFKA_BROKERS.join(',')})`;
    }

    const progress = new ImportProgressView(err, values['no-progress'] === true);
    let summary: ImportSummary;
    try {
      summary = await importFiles(input, sink, (p) => progress.update(p));
    } catch (error) {
      progress.done();
      if (error instanceof ImportOptionsError) throw new UsageError(describeOptionProblems(error));
      if (error instanceof ImportAbortedError) {
        out.write(formatSummary(error.summary, target));
        err.write(`gridstream import: ${error.message}\n`);
        return 1;
      }
      throw error;
    } finally {
      await close();
    }
    progress.done();
    if (dryRun) {
      const preview = await previewFile(input, 5);
      const samples = preview.tables.flatMap((t) => t.samples).slice(0, 5);
      if (samples.length > 0) {
        out.write(`first samples of ${basename(preview.file)}:\n`);
        for (const s of samples) out.write(`  line ${s.line}: ${JSON.stringify(s.sample)}\n`);
      }
    }
    out.write(formatSummary(summary, target));
    if (summary.files.some((f) => f.error !== undefined)) return 1;
    return summary.rejectsTotal > 0 ? EXIT_REJECTS : 0;
  });
}

async function validate(input: ImportOptionsInput): Promise<void> {
  const { problems } = checkImportOptions(input);
  if (problems.length > 0) throw new UsageError(describeOptionProblems(new ImportOptionsError(problems)));
}

function describeOptionProblems(error: ImportOptionsError): string {
  return `invalid options:\n${error.problems
    .map((p) => `  ${FLAG_OF[p.option.split('.')[0]!] ?? p.option}: ${p.message}`)
    .join('\n')}`;
}

function reasonList(): string {
  return Object.entries(REJECT_REASONS)
    .map(([code, text]) => `  ${code.padEnd(15)} ${text}`)
    .join('\n');
}

export function formatSummary(summary: ImportSummary, target: string): string {
  const lines: string[] = [];
  for (const f of summary.files) {
    const what = [f.format, f.encoding, f.sheets ? `sheets ${f.sheets.join(', ')}` : undefined]
      .filter(Boolean)
      .join(', ');
    lines.push(
      `${f.file}${what ? ` (${what})` : ''}: ${f.rowsRead} rows read, ${f.rowsSent} sent in ${f.messagesSent} message(s), ` +
        `${f.rowsRejected} rejected${f.error ? `\n  NOT IMPORTED: ${f.error}` : ''}`,
    );
  }
  if (summary.rejects.length > 0) {
    lines.push('rejected rows (file:line reason detail):');
    for (const r of summary.rejects)
      lines.push(`  ${r.file.replace(/^file:\/\//, '')}:${r.line} ${r.reason} ${r.detail}`);
    const hidden = summary.rejectsTotal - summary.rejects.length;
    if (hidden > 0) lines.push(`  … and ${hidden} more (raise --max-rejects to list them)`);
  }
  const seconds = summary.durationMs / 1000;
  lines.push(
    `total: ${summary.rowsRead} rows read, ${summary.rowsSent} sent to ${target}, ${summary.rejectsTotal} rejected, ` +
      `${seconds.toFixed(1)} s (${Math.round(summary.rowsRead / Math.max(seconds, 0.001))} rows/s)`,
  );
  return `${lines.join('\n')}\n`;
}

/** A bar on a terminal; elsewhere a plain line every LOG_EVERY_MS so a log shows the import is alive. */
class ImportProgressView {
  private readonly bar: ProgressBar;
  private readonly tty: boolean;
  private lastLog = Date.now();

  constructor(
    private readonly err: Out & { isTTY?: boolean },
    private readonly off: boolean,
  ) {
    this.tty = !off && err.isTTY === true;
    this.bar = new ProgressBar(err, { enabled: this.tty, label: 'import' });
  }

  update(p: ImportProgress): void {
    const fraction = p.bytesTotal > 0 ? p.bytesRead / p.bytesTotal : 0;
    if (this.tty) {
      this.bar.update(fraction, p.rowsRead, p.done);
      return;
    }
    if (this.off || p.done || Date.now() - this.lastLog < LOG_EVERY_MS) return;
    this.lastLog = Date.now();
    this.err.write(
      `import: ${basename(p.file)} ${(fraction * 100).toFixed(1)}% — ${p.rowsRead} rows read, ${p.rowsSent} sent, ${p.rowsRejected} rejected\n`,
    );
  }

  done(): void {
    this.bar.done();
  }
}
