import { readFile } from 'node:fs/promises';
import {
  type DtRange,
  defaultEngine,
  type Engine,
  formatTable,
  parseTimeArgument,
  queryResultToJson,
  runQuery,
  toolsEnvSchema,
  utcDate,
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

const USAGE = `gridstream query "<SQL>" [--engine athena|duckdb] [--out result.csv] [--timeout seconds] [--json] [-q]
gridstream query --file docs/queries/daily-energy-per-site.sql [...]
    duckdb only: [--dir archive-folder] [--from YYYY-MM-DD] [--to YYYY-MM-DD]

  Runs SQL on the archive table "telemetry" and prints the result as a table.
  --engine athena  Athena (database ATHENA_DATABASE or GLUE_DATABASE, workgroup ATHENA_WORKGROUP,
                   results in ATHENA_OUTPUT_LOCATION); --out downloads Athena's result CSV.
  --engine duckdb  the same SQL offline on the Parquet files of the archive (ARCHIVE_DIR, or
                   ARCHIVE_S3_BUCKET pulled into ARCHIVE_CACHE_DIR, only new or changed objects);
                   --from/--to limit which dt folders are read (the SQL's WHERE still applies).
  Default engine: athena when ATHENA_WORKGROUP or ATHENA_OUTPUT_LOCATION is set, else duckdb.
  --json           the result as one JSON document instead of the table: {"columns": [...], "rows": [[...]]}.
                   Rows are arrays in column order, not objects: a result can repeat a column name
                   (SELECT a.x, b.x) and an empty result still names its columns. Cells follow their SQL
                   type: integers up to 32 bits and floating point as numbers (NaN/Infinity as strings),
                   bigint and decimal as strings (exact: count(*) is "2"), booleans, timestamps ISO 8601
                   UTC ("2024-03-01T10:00:00.000Z"), dates "2024-03-01", NULL null, other types as text.
  -q, --quiet      no progress on stderr (stdout holds only the result either way).`;

/** `gridstream query …`; `argv` starts after `query`. Returns the exit code; never throws. */
export async function runQueryCommand(argv: string[], out: Out, io: CommandIo = {}): Promise<number> {
  const err = io.err ?? process.stderr;
  if (argv.length === 0 || wantsHelp(argv)) {
    out.write(`${USAGE}\n`);
    return argv.length === 0 ? EXIT_USAGE : 0;
  }
  // With --json, stdout is the JSON document or nothing: a usage mistake goes to stderr.
  const usageOut = argv.includes('--json') ? err : out;
  return runCommand('query', USAGE, usageOut, err, async () => {
    const { values, positionals } = parseCommandArgs(argv, {
      engine: { type: 'string' },
      out: { type: 'string' },
      file: { type: 'string' },
      dir: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      timeout: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      json: { type: 'boolean' },
    });
    if (values.engine !== undefined && values.engine !== 'athena' && values.engine !== 'duckdb') {
      throw new UsageError(`--engine must be athena or duckdb, not "${values.engine}"`);
    }
    if (positionals.length > 1) throw new UsageError('give the SQL as one argument (quote it)');
    if ((positionals[0] === undefined) === (values.file === undefined)) {
      throw new UsageError('give the SQL either as an argument or with --file, not both');
    }
    const sql = values.file === undefined ? positionals[0]! : await readFile(values.file, 'utf8');
    const env = loadConfig(toolsEnvSchema, io.env ?? process.env);
    const engine = (values.engine as Engine | undefined) ?? defaultEngine(env);
    if (
      engine === 'athena' &&
      (values.dir !== undefined || values.from !== undefined || values.to !== undefined)
    ) {
      throw new UsageError('--dir, --from and --to apply to --engine duckdb only (Athena reads the table)');
    }
    const range: DtRange = {};
    if (values.from !== undefined) range.from = utcDate(parseTimeArgument(values.from, '--from'));
    if (values.to !== undefined) range.to = utcDate(parseTimeArgument(values.to, '--to'));
    const status = (message: string) => {
      if (!values.quiet) err.write(`${message}\n`);
    };
    let lastState = '';
    const run = await runQuery(env, {
      sql,
      engine,
      out: values.out,
      dir: values.dir,
      range,
      timeoutMs: secondsOption(values.timeout, 'timeout'),
      onStatus: (message) => {
        // Athena polls repeat the same state; print each state once.
        const state = message.replace(/ after .*$/, '');
        if (state !== lastState) status(message);
        lastState = state;
      },
    });
    out.write(
      values.json
        ? `${JSON.stringify(queryResultToJson(run.result))}\n`
        : `${formatTable(run.result.columns, run.result.rows)}\n`,
    );
    if (run.queryExecutionId !== undefined)
      status(`athena query ${run.queryExecutionId}: ${run.outputLocation ?? ''}`);
    if (values.out !== undefined) status(`wrote ${values.out}`);
    return 0;
  });
}
