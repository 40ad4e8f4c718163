import {
  archiveStoreFromEnv,
  ExportDestinationError,
  exportFromInflux,
  exportS3EnvSchema,
  HOUR_MS,
  isS3Url,
  ProgressBar,
  parseS3Destination,
  parseTimeArgument,
  s3ExportStore,
  toolsEnvSchema,
} from '@gridstream/archive-tools';
import { loadConfig } from '@gridstream/config';
import { checkInfluxEnv, influxConfigFromEnv, influxEnvShape } from '@gridstream/influx';
import { isValidTimeZone } from '@gridstream/schema';
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

/** The destination failed (S3 unreachable, refused, an upload failed): stdout lists what was stored. */
export const EXIT_DESTINATION = 4;

const USAGE = `gridstream export --from <date|ISO> --to <date|ISO> [--format archive|csv] [--measurement m]...
                  [--out dir|s3://bucket/prefix] [--tz zone] [--window 1h] [--no-progress]

  Reads raw points from InfluxDB (INFLUX_URL, INFLUX_DATABASE), one time window at a time, and writes:
  --format archive  (default) the archive layout, one file per UTC day and measurement:
                    dt=YYYY-MM-DD/export+<measurement>+<from>+<to>.parquet, to --out or else the
                    configured archive (ARCHIVE_S3_BUCKET or ARCHIVE_DIR). Same range, same files.
  --format csv      daily CSV files <out>/<measurement>/<YYYY-MM-DD>.csv (days cut at midnight in
                    --tz, default UTC), one line per point: time,site,device,rack,<fields…>
                    --out is required: a folder, or s3://bucket/prefix for objects of the same names
                    and bytes (never the archive itself).
  --out s3://b/p    upload to that bucket and prefix instead (either format), each file once it is
                    complete; a re-run replaces the same objects. S3 settings are the archive's
                    (ARCHIVE_S3_ENDPOINT, ARCHIVE_S3_REGION, ARCHIVE_S3_FORCE_PATH_STYLE for MinIO),
                    credentials the AWS SDK's chain. If S3 fails: exit ${EXIT_DESTINATION}, the files
                    stored before it listed on stdout; run the same export again to finish.
  --from/--to       YYYY-MM-DD (midnight UTC, or in --tz for csv) or an ISO time with Z/offset; [from, to).
  --window          size of each InfluxDB query: 15m, 1h (default), 6h…
  Written files are listed on stdout. A progress bar (rows/s, ETA) is drawn on stderr when it is a terminal.`;

const influxSchema = z.object(influxEnvShape).superRefine(checkInfluxEnv);

function windowOption(text: string | undefined): number {
  if (text === undefined) return HOUR_MS;
  const m = /^(\d+)(m|h)$/.exec(text);
  if (!m || Number(m[1]) <= 0) throw new UsageError('--window must be minutes or hours, e.g. 15m or 1h');
  const ms = Number(m[1]) * (m[2] === 'h' ? HOUR_MS : 60_000);
  if (ms > 24 * HOUR_MS) throw new UsageError('--window must be at most 24h');
  return ms;
}

/** `gridstream export …`; `argv` starts after `export`. Returns the exit code; never throws. */
export async function runExportCommand(argv: string[], out: Out, io: CommandIo = {}): Promise<number> {
  const err = io.err ?? process.stderr;
  if (argv.length === 0 || wantsHelp(argv)) {
    out.write(`${USAGE}\n`);
    return argv.length === 0 ? EXIT_USAGE : 0;
  }
  return runCommand('export', USAGE, out, err, async () => {
    const { values, positionals } = parseCommandArgs(argv, {
      from: { type: 'string' },
      to: { type: 'string' },
      format: { type: 'string', default: 'archive' },
      measurement: { type: 'string', multiple: true },
      out: { type: 'string' },
      tz: { type: 'string' },
      window: { type: 'string' },
      'no-progress': { type: 'boolean' },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    if (values.format !== 'archive' && values.format !== 'csv') {
      throw new UsageError(`--format must be archive or csv, not "${values.format}"`);
    }
    if (values.from === undefined || values.to === undefined)
      throw new UsageError('--from and --to are required');
    if (values.tz !== undefined && values.format !== 'csv') {
      throw new UsageError(
        '--tz applies to --format csv only: archive days (dt) are UTC dates by definition',
      );
    }
    if (values.tz !== undefined && !isValidTimeZone(values.tz))
      throw new UsageError(`unknown time zone "${values.tz}"`);
    if (values.format === 'csv' && values.out === undefined)
      throw new UsageError('--format csv needs --out <dir> or --out s3://bucket/prefix');
    const s3Out = values.out !== undefined && isS3Url(values.out) ? values.out : undefined;
    if (s3Out !== undefined) {
      try {
        parseS3Destination(s3Out);
      } catch (error) {
        throw new UsageError(`--out: ${(error as Error).message}`);
      }
    }
    const timeZone = values.tz ?? 'UTC';
    const fromMs = parseTimeArgument(values.from, '--from', timeZone);
    const toMs = parseTimeArgument(values.to, '--to', timeZone);
    if (!(fromMs < toMs)) throw new UsageError('--from must be before --to');
    const windowMs = windowOption(values.window);

    const env = io.env ?? process.env;
    const influx = influxConfigFromEnv(loadConfig(influxSchema, env));
    // --out s3://… names its own bucket: only the S3 service settings of the archive apply.
    const s3 = s3Out === undefined ? undefined : s3ExportStore(loadConfig(exportS3EnvSchema, env), s3Out);
    const tools = s3 === undefined ? loadConfig(toolsEnvSchema, env) : undefined;
    const store = values.format === 'archive' ? (s3 ?? archiveStoreFromEnv(tools!, values.out)) : undefined;
    const csvStore = values.format === 'csv' ? s3 : undefined;
    const progress = new ProgressBar(err, {
      enabled: values['no-progress'] ? false : undefined,
      label: 'export',
    });
    const started = Date.now();
    let summary: Awaited<ReturnType<typeof exportFromInflux>>;
    try {
      summary = await exportFromInflux({
        influx,
        fromMs,
        toMs,
        format: values.format,
        measurements: values.measurement,
        store,
        csvStore,
        csvDir: s3 === undefined ? values.out : undefined,
        timeZone,
        windowMs,
        progress,
      });
    } catch (error) {
      if (!(error instanceof ExportDestinationError)) throw error;
      // Not a silent partial success: what was stored is listed like a success's files, the rest named.
      for (const f of error.written) out.write(`${f}\n`);
      err.write(`gridstream export: ${error.message}\n`);
      return EXIT_DESTINATION;
    } finally {
      (store ?? csvStore)?.close();
    }
    for (const f of summary.files) out.write(`${f}\n`);
    const seconds = (Date.now() - started) / 1000;
    const where = (store ?? csvStore)?.location ?? values.out;
    err.write(
      `exported ${summary.points} points as ${summary.rows} rows into ${summary.files.length} file(s) in ${where} ` +
        `(${summary.days} day(s), ${seconds.toFixed(1)} s, ${Math.round(summary.rows / Math.max(seconds, 0.001))} rows/s)` +
        (summary.skippedStrings > 0 ? `; ${summary.skippedStrings} string values skipped (metadata)` : '') +
        (summary.skippedUntagged > 0
          ? `; ${summary.skippedUntagged} points without site/device tags skipped`
          : '') +
        '\n',
    );
    return 0;
  });
}
