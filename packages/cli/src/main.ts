#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError } from '@gridstream/config';
import { createLogger, EXIT_CONFIG } from '@gridstream/runtime';
import { createTopics, showLag } from './topics-command.js';

const USAGE = `gridstream <command>

  topics create                 create telemetry.raw/parsed/dlq (KAFKA_TOPIC_* / KAFKA_TOPIC_PARTITIONS / KAFKA_REPLICATION_FACTOR)
  topics lag <group> [topic…]   consumer lag per partition

Configuration comes from the environment (see docs/configuration.md).`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h' } },
  });
  const logger = createLogger({ service: 'cli', level: 'warn' });
  const [command, sub, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return command ? 0 : 2;
  }
  if (command === 'topics' && sub === 'create') {
    process.stdout.write(`${await createTopics(process.env, logger)}\n`);
    return 0;
  }
  if (command === 'topics' && sub === 'lag' && rest[0]) {
    process.stdout.write(`${await showLag(process.env, logger, rest[0], rest.slice(1))}\n`);
    return 0;
  }
  process.stderr.write(`unknown command: ${positionals.join(' ')}\n\n${USAGE}\n`);
  return 2;
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
