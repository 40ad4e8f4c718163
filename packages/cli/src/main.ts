#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError } from '@gridstream/config';
import { createLogger, EXIT_CONFIG } from '@gridstream/runtime';
import { runArchiveCommand } from './archive-command.js';
import { runExportCommand } from './export-command.js';
import { runForecastCommand } from './forecast-command.js';
import { runGlueCommand } from './glue-command.js';
import { runImportCommand } from './import-command.js';
import { runInfluxCommand } from './influx-command.js';
import { runModbusCommand } from './modbus-command.js';
import { runOpcuaCommand } from './opcua-command.js';
import { runParseCommand } from './parse-command.js';
import { runQueryCommand } from './query-command.js';
import { runSpoolCommand } from './spool-command.js';
import { createTopics, showLag } from './topics-command.js';

const USAGE = `gridstream <command>

  topics create                 create telemetry.raw/parsed/dlq/alarms (alarms compacted; KAFKA_TOPIC_* / KAFKA_TOPIC_PARTITIONS / KAFKA_REPLICATION_FACTOR)
  topics lag <group> [topic…] [--json]
                                consumer lag per partition (--json: {"group", "partitions": [{"group", "topic",
                                "partition", "committed", "end", "lag"}], "total"}; offsets as strings)
  modbus probe --host H --unit U --address A --count N [--profile file.yaml] [--json]
                                raw registers and every decoding side by side
  opcua browse <endpoint> [--depth N] [--security …] [--json]
                                the server's address space as a tree
  opcua cert                    the collector's application certificate: thumbprint and path
  glue create-table [--check]   the archive's Glue table (partition projection: no crawler needed)
  glue crawler [--timeout s]    create and run a Glue crawler over the archive (the original workflow)
  query "<SQL>" | --file f.sql [--engine athena|duckdb] [--out f.csv] [--from d --to d --dir path] [--json]
                                SQL over the archive: Athena, or the same SQL offline on DuckDB
  export --from <date|ISO> --to <…> [--format archive|csv] [--measurement m]… [--out dir|s3://b/p] [--tz zone]
                                backfill the archive (or daily CSV files, to a folder or bucket) from InfluxDB
  archive verify [--from d] [--to d] [--dir path] [--group g] [--no-kafka] [--json]
                                gaps and duplicates between the archive and the consumed offsets
  influx retention --days N [--yes]
                                keep N days hot in InfluxDB
  import <file>… --time-column C --values 'A|B' (--device-column C | --device ID) --site S --measurement M
                                stream CSV/.xlsx rows into telemetry.raw (docs/import.md; --help for all flags)
  spool dump <folder> [--json] [--pending]
                                what a collector's disk spool holds (and whether Kafka has it)
  parse <file|->… [--schema microgrid.v1|samples.v1] [--timezone Z] [--json]
                                decode raw messages offline as the parser would: records and dead letters
  forecast backtest --file f.csv --time-column C --value-column C --period 24[,168] [--horizon N] [--models hw,snaive] [--json]
                                rolling-origin backtest of Holt–Winters vs seasonal naive on one column (docs/forecast.md)

With --json a command prints one JSON document on stdout and nothing else (its own --help has the shape).
Configuration comes from the environment (see docs/configuration.md).`;

type Io = { write(s: string): void };
type CommandGroup = (argv: string[], out: Io) => Promise<number>;

const wantsHelp = (argv: readonly string[]) => argv.some((a) => a === '--help' || a === '-h');

async function topics(argv: string[], out: Io): Promise<number> {
  if (wantsHelp(argv)) {
    out.write(`${USAGE}\n`);
    return 0;
  }
  const [sub, ...rest] = argv;
  if (sub === 'create') {
    const logger = createLogger({ service: 'cli', level: 'warn' });
    out.write(`${await createTopics(process.env, logger)}\n`);
    return 0;
  }
  if (sub === 'lag') {
    // With --json stdout holds the document alone: usage mistakes and the client's logs (pino writes to
    // stdout by default) go to stderr.
    const json = rest.includes('--json');
    const messages = json ? process.stderr : out;
    let parsed: { values: { json?: boolean }; positionals: string[] };
    try {
      parsed = parseArgs({ args: rest, allowPositionals: true, options: { json: { type: 'boolean' } } });
    } catch (error) {
      messages.write(`gridstream topics lag: ${(error as Error).message}\n\n${USAGE}\n`);
      return 2;
    }
    const [group, ...topicNames] = parsed.positionals;
    if (!group) {
      messages.write(`${USAGE}\n`);
      return 2;
    }
    const asJson = parsed.values.json === true;
    const logger = createLogger({
      service: 'cli',
      level: 'warn',
      ...(asJson ? { destination: process.stderr } : {}),
    });
    out.write(`${await showLag(process.env, logger, group, topicNames, { json: asJson })}\n`);
    return 0;
  }
  out.write(`${USAGE}\n`);
  return 2;
}

/** Each group parses its own arguments: their flags differ, and one parser for all would reject them. */
const GROUPS: Record<string, CommandGroup> = {
  topics,
  modbus: runModbusCommand,
  opcua: runOpcuaCommand,
  glue: runGlueCommand,
  query: runQueryCommand,
  export: runExportCommand,
  archive: runArchiveCommand,
  influx: runInfluxCommand,
  import: runImportCommand,
  spool: runSpoolCommand,
  parse: runParseCommand,
  forecast: runForecastCommand,
};

async function main(argv: string[]): Promise<number> {
  const [group, ...rest] = argv;
  if (group === undefined || group === '--help' || group === '-h' || group === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return group === undefined ? 2 : 0;
  }
  // Own keys only: `gridstream constructor` must be an unknown command, not Object's constructor.
  const run = Object.hasOwn(GROUPS, group) ? GROUPS[group] : undefined;
  if (!run) {
    process.stderr.write(`unknown command: ${group}\n\n${USAGE}\n`);
    return 2;
  }
  return run(rest, process.stdout);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = EXIT_CONFIG;
  } else {
    process.stderr.write(`gridstream: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
