import {
  describeEnsureResult,
  ensureGlueTable,
  type GlueTableSpec,
  glueClientFromEnv,
  runCrawler,
  type ToolsEnv,
  toolsEnvSchema,
} from '@gridstream/archive-tools';
import { loadConfig } from '@gridstream/config';
import {
  type CommandIo,
  EXIT_USAGE,
  type Out,
  parseCommandArgs,
  runCommand,
  secondsOption,
  UsageError,
  wantsHelp,
} from './archive-cli-io.js';

const USAGE = `gridstream glue create-table [--check]
gridstream glue crawler [--timeout seconds]

  create-table  creates the Glue database (GLUE_DATABASE) and table (GLUE_TABLE) over
                s3://ARCHIVE_S3_BUCKET/ARCHIVE_S3_PREFIX if missing: columns from the schema package,
                Parquet SerDe, partition projection on dt (no crawler, no MSCK REPAIR needed).
                An existing table that differs is updated to that definition (other table
                parameters are kept); --check only reports the differences (exit 1 if any).
  crawler       creates (if missing) and starts the Glue crawler GLUE_CRAWLER_NAME over the archive
                prefix, running as GLUE_CRAWLER_ROLE, and waits until it is READY (default 30 min).
                Its table is named GLUE_CRAWLER_TABLE_PREFIX + folder, never the projected table.`;

function tableSpec(env: ToolsEnv): GlueTableSpec {
  if (env.ARCHIVE_S3_BUCKET === undefined) {
    throw new UsageError('ARCHIVE_S3_BUCKET is not set: a Glue table needs the archive on S3');
  }
  return {
    database: env.GLUE_DATABASE,
    table: env.GLUE_TABLE,
    bucket: env.ARCHIVE_S3_BUCKET,
    prefix: env.ARCHIVE_S3_PREFIX,
    projectionStart: env.GLUE_PROJECTION_START,
  };
}

/** `gridstream glue …`; `argv` starts after `glue`. Returns the exit code; never throws. */
export async function runGlueCommand(argv: string[], out: Out, io: CommandIo = {}): Promise<number> {
  const err = io.err ?? process.stderr;
  const [sub, ...rest] = argv;
  if (sub === undefined || wantsHelp(argv)) {
    out.write(`${USAGE}\n`);
    return sub === undefined ? EXIT_USAGE : 0;
  }
  return runCommand(`glue ${sub}`, USAGE, out, err, async () => {
    const env = loadConfig(toolsEnvSchema, io.env ?? process.env);
    if (sub === 'create-table') {
      const { values } = parseCommandArgs(rest, { check: { type: 'boolean' } });
      const spec = tableSpec(env);
      const result = await ensureGlueTable(glueClientFromEnv(env), spec, { update: !values.check });
      out.write(`${describeEnsureResult(spec, result)}\n`);
      return result.table === 'differs' ? 1 : 0;
    }
    if (sub === 'crawler') {
      const { values } = parseCommandArgs(rest, { timeout: { type: 'string' } });
      const spec = tableSpec(env);
      if (env.GLUE_CRAWLER_ROLE === undefined) {
        throw new UsageError(
          'GLUE_CRAWLER_ROLE is not set: the crawler runs as an IAM role that can read the bucket',
        );
      }
      let last = '';
      const result = await runCrawler(
        glueClientFromEnv(env),
        {
          name: env.GLUE_CRAWLER_NAME,
          role: env.GLUE_CRAWLER_ROLE,
          database: spec.database,
          bucket: spec.bucket,
          prefix: spec.prefix,
          tablePrefix: env.GLUE_CRAWLER_TABLE_PREFIX,
        },
        {
          timeoutMs: secondsOption(values.timeout, 'timeout'),
          onState: (state, ms) => {
            if (state !== last)
              err.write(`crawler ${env.GLUE_CRAWLER_NAME}: ${state} (${Math.round(ms / 1000)} s)\n`);
            last = state;
          },
        },
      );
      const tables =
        result.tablesCreated === undefined
          ? ''
          : `, tables created ${result.tablesCreated}, updated ${result.tablesUpdated ?? 0}`;
      out.write(
        `crawler ${env.GLUE_CRAWLER_NAME}${result.created ? ' (created)' : ''}: last crawl ${result.status}` +
          `${result.errorMessage ? ` — ${result.errorMessage}` : ''}${tables}, ${Math.round(result.elapsedMs / 1000)} s\n`,
      );
      if (result.summary) out.write(`summary: ${result.summary}\n`);
      // Glue says SUCCEEDED; moto says COMPLETED for the same outcome.
      return result.status === 'SUCCEEDED' || result.status === 'COMPLETED' ? 0 : 1;
    }
    throw new UsageError(`unknown command "${sub}"`);
  });
}
