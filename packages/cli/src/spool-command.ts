import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readSpoolFolder } from '@gridstream/spool';

const USAGE = `gridstream spool dump <folder> [--json] [--pending]

  What a collector's disk spool holds (SPOOL_DIR, default .local/spool/<service>): every message, oldest
  first, with its sequence number, whether Kafka has it (delivered) and its message id. Delivered messages
  are there only with SPOOL_RETAIN_BYTES. Reads the files only; the collector may keep running.
  --json      one JSON object per line: {"seq", "delivered", "key", "headers", "value"}
  --pending   only what Kafka does not have yet`;

type Out = { write(s: string): void };

/** `gridstream spool …`; `argv` starts after `spool`. Returns the exit code. */
export async function runSpoolCommand(argv: string[], out: Out): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'dump' || rest.includes('--help') || rest.includes('-h')) {
    out.write(`${USAGE}\n`);
    return sub === 'dump' || sub === '--help' || sub === '-h' ? 0 : 2;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { json: { type: 'boolean' }, pending: { type: 'boolean' } },
  });
  if (positionals.length !== 1) {
    out.write(`${USAGE}\n`);
    return 2;
  }
  let total = 0;
  let pending = 0;
  for (const record of readSpoolFolder(resolve(positionals[0]!))) {
    total++;
    if (!record.delivered) pending++;
    if (values.pending && record.delivered) continue;
    const { key, value, headers } = record.message;
    if (values.json) {
      out.write(
        `${JSON.stringify({
          seq: String(record.seq),
          delivered: record.delivered,
          key: key === null ? null : key.toString(),
          headers: headers ?? {},
          value: value.toString(),
        })}\n`,
      );
    } else {
      const id = headers?.['gs-message-id'] ?? '';
      out.write(
        `${record.seq}\t${record.delivered ? 'delivered' : 'pending'}\t${id}\t${value.length} bytes\n`,
      );
    }
  }
  if (!values.json) out.write(`${total} message(s), ${pending} not yet in Kafka\n`);
  return 0;
}
