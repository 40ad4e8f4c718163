import {
  archiveSourceFromEnv,
  type DtRange,
  fetchArchiverOffsets,
  formatVerifyReport,
  type KafkaPartitionOffsets,
  kafkaRecordOffsets,
  parseTimeArgument,
  toolsEnvSchema,
  utcDate,
  type VerifyProgress,
  verifyArchive,
  verifyReportToJson,
} from '@gridstream/archive-tools';
import { loadConfig } from '@gridstream/config';
import { createKafka, kafkaEnvShape } from '@gridstream/kafka';
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

const USAGE = `gridstream archive verify [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--dir archive-folder]
                          [--group archiver-group] [--no-kafka] [--json]

  Reconciles the archive with Kafka, per partition of KAFKA_TOPIC_PARSED: every offset that holds a
  committed record, from the topic's earliest offset to the archiver group's committed offset − 1, must
  be in the archive (open ends only; a --from/--to window is checked within itself; offsets without a
  record — the parser's transaction markers, aborted attempts — are asked of Kafka and not counted).
  Reports, per dt partition, gaps (records missing), duplicates (an offset in more than one file),
  duplicate readings (the same site/device/field/ts in rows of different offsets) and exported rows that
  repeat archiver rows. Exit code 1 when there is any.
  --group      the archiver's consumer group (default ARCHIVER_GROUP_ID or gridstream-archiver)
  --no-kafka   check the archive on its own (every missing inner offset counts as a gap)
  --json       the report as one JSON document instead of the text: {"range", "days", "partitions", "gaps",
               "duplicates", "duplicateReadings", "unverifiable", "totals", "ok"}: every gap and duplicated
               offset (duplicate readings: the first 50, counted in full in totals); offsets and offset
               counts (64-bit) as strings. Same exit code.`;

const verifyEnv = z.object({
  ...kafkaEnvShape,
  ARCHIVER_GROUP_ID: z.string().min(1).default('gridstream-archiver'),
});

/** `gridstream archive …`; `argv` starts after `archive`. Returns the exit code; never throws. */
export async function runArchiveCommand(argv: string[], out: Out, io: CommandIo = {}): Promise<number> {
  const err = io.err ?? process.stderr;
  const [sub, ...rest] = argv;
  if (sub === undefined || wantsHelp(argv)) {
    out.write(`${USAGE}\n`);
    return sub === undefined ? EXIT_USAGE : 0;
  }
  // With --json, stdout is the report or nothing: a usage mistake goes to stderr.
  const json = rest.includes('--json');
  return runCommand(`archive ${sub}`, USAGE, json ? err : out, err, async () => {
    if (sub !== 'verify') throw new UsageError(`unknown command "${sub}"`);
    const { values, positionals } = parseCommandArgs(rest, {
      from: { type: 'string' },
      to: { type: 'string' },
      dir: { type: 'string' },
      group: { type: 'string' },
      'no-kafka': { type: 'boolean' },
      json: { type: 'boolean' },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const range: DtRange = {};
    if (values.from !== undefined) range.from = utcDate(parseTimeArgument(values.from, '--from'));
    if (values.to !== undefined) range.to = utcDate(parseTimeArgument(values.to, '--to'));
    const env = io.env ?? process.env;
    const tools = loadConfig(toolsEnvSchema, env);
    const kafkaCfg = loadConfig(verifyEnv, env);
    let kafka: KafkaPartitionOffsets[] | undefined;
    let recordOffsets: ReturnType<typeof kafkaRecordOffsets> | undefined;
    if (!values['no-kafka']) {
      // The client's warnings are pino lines on stdout by default; with --json stdout is the report alone.
      const logger = createLogger({
        service: 'cli',
        level: 'warn',
        ...(values.json ? { destination: err } : {}),
      });
      const client = createKafka(kafkaCfg, logger);
      kafka = await fetchArchiverOffsets(
        client,
        values.group ?? kafkaCfg.ARCHIVER_GROUP_ID,
        kafkaCfg.KAFKA_TOPIC_PARSED,
      );
      // The parsed topic is written in transactions: a missing offset is a loss only if it held a record.
      recordOffsets = kafkaRecordOffsets(client, kafkaCfg.KAFKA_TOPIC_PARSED);
    }
    const source = archiveSourceFromEnv(tools, values.dir);
    err.write(`verifying ${source.description}\n`);
    const report = await verifyArchive({
      source,
      topic: kafkaCfg.KAFKA_TOPIC_PARSED,
      range,
      onProgress: verifyProgressPrinter((line) => err.write(`${line}\n`)),
      ...(kafka ? { kafka } : {}),
      ...(recordOffsets ? { recordOffsets } : {}),
    });
    out.write(
      values.json ? `${JSON.stringify(verifyReportToJson(report))}\n` : `${formatVerifyReport(report)}\n`,
    );
    return report.ok ? 0 : 1;
  });
}

/**
 * Progress of `archive verify` as lines on stderr: each stage as it starts, and a long fetch from S3 at every
 * tenth of its files (a 20,000-file archive takes minutes to fetch, and the command was silent through it).
 */
export function verifyProgressPrinter(write: (line: string) => void): (p: VerifyProgress) => void {
  let lastTenth = -1;
  return (p) => {
    switch (p.stage) {
      case 'listed':
        write(`${p.windowFiles} archiver file(s) in the range, ${p.exportFiles} export file(s)`);
        return;
      case 'fetching': {
        const tenth = Math.floor((p.done * 10) / p.toFetch);
        if (p.done === p.toFetch || tenth > lastTenth) {
          lastTenth = p.done === p.toFetch ? -1 : tenth;
          write(`fetched ${p.done}/${p.toFetch} file(s) into the cache`);
        }
        return;
      }
      case 'reading':
        write(`reading the offsets of ${p.files} file(s)`);
        return;
      case 'kafka':
        write(`asking Kafka which of ${p.ranges} missing offset range(s) held records`);
        return;
      case 'duplicates':
        write('looking for readings archived twice');
        return;
    }
  };
}
