import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseRaw, zoneResolver } from '@gridstream/parsing';
import { isValidTimeZone, RAW_HEADER, SCHEMA_IDS } from '@gridstream/schema';

const USAGE = `gridstream parse <file|->… [--schema microgrid.v1|samples.v1] [--timezone Z] [--site-timezones 'S=Z,…'] [--json]

  Decodes raw messages offline exactly as the parser does — one file (or stdin: -) per message, gateway JSON
  (microgrid.v1, the default) or collector samples (samples.v1) — and prints the records it would produce and
  the dead letter it would write, with its reason code (docs/messages.md). Nothing is sent anywhere. For
  trying a new gateway's payloads, like \`telegraf --test\`.
  --schema           the raw format (the gs-schema header); default microgrid.v1
  --timezone         zone of wall-clock header timestamps; default PARSER_DEFAULT_TIMEZONE or UTC
  --site-timezones   per-site zones, e.g. 000001=Asia/Seoul; default PARSER_SITE_TIMEZONES
  --max-bytes        larger messages are refused as oversized; default PARSER_MAX_MESSAGE_BYTES or 4 MiB
  --json             one JSON object per file: {"file", "records", "deadLetter", "controlCharsEscaped", "nonFiniteValues"}
  Exit status: 0 when every file parsed whole, 1 when any gave a dead letter or could not be read, 2 for usage.`;

type Out = { write(s: string): void };

function siteZones(spec: string | undefined): Record<string, string> {
  const zones: Record<string, string> = {};
  for (const pair of (spec ?? '').split(',')) {
    if (pair.trim() === '') continue;
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--site-timezones: "${pair}" is not SITE=Zone`);
    zones[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return zones;
}

class UsageError extends Error {}

/** `gridstream parse …`; `argv` starts after `parse`. Returns the exit code. */
export async function runParseCommand(
  argv: string[],
  out: Out,
  input: () => Buffer = stdin,
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    out.write(`${USAGE}\n`);
    return 0;
  }
  let options: ReturnType<typeof readOptions>;
  try {
    options = readOptions(argv);
  } catch (error) {
    out.write(`gridstream parse: ${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const { files, schema, json, maxBytes, zoneForSite } = options;
  let failed = false;
  for (const [index, file] of files.entries()) {
    let value: Buffer;
    try {
      value = file === '-' ? input() : readFileSync(file);
    } catch (error) {
      failed = true;
      const message = `cannot read ${file}: ${(error as Error).message}`;
      out.write(json ? `${JSON.stringify({ file, error: message })}\n` : `${message}\n`);
      continue;
    }
    const result = parseRaw(
      {
        value,
        headers: { [RAW_HEADER.schema]: schema },
        topic: file === '-' ? 'stdin' : file,
        partition: 0,
        offset: String(index),
      },
      { maxBytes, zoneForSite },
    );
    const first = result.problems[0];
    const deadLetter = first
      ? {
          reason: first.reason,
          message: `${first.path ? `${first.path}: ` : ''}${first.message}${result.problems.length > 1 ? ` (+${result.problems.length - 1} more)` : ''}`,
          problems: result.problems,
        }
      : null;
    if (deadLetter) failed = true;
    if (json) {
      out.write(
        `${JSON.stringify({
          file,
          records: result.records,
          deadLetter,
          controlCharsEscaped: result.controlCharsEscaped,
          nonFiniteValues: result.nonFiniteValues ?? 0,
        })}\n`,
      );
      continue;
    }
    for (const record of result.records) out.write(`${JSON.stringify(record)}\n`);
    const notes = [
      result.controlCharsEscaped > 0 ? `${result.controlCharsEscaped} control character(s) escaped` : '',
      result.nonFiniteValues ? `${result.nonFiniteValues} NaN/Infinity reading(s) left out, flagged bad` : '',
    ].filter(Boolean);
    out.write(
      `${file}: ${result.records.length} record(s)${notes.length > 0 ? `; ${notes.join('; ')}` : ''}${deadLetter ? '; dead letter' : ''}\n`,
    );
    if (deadLetter) {
      out.write(`  dead letter: ${deadLetter.reason}: ${deadLetter.message}\n`);
      for (const p of result.problems.slice(1, 20))
        out.write(`    ${p.reason}: ${p.path ? `${p.path}: ` : ''}${p.message}\n`);
    }
  }
  return failed ? 1 : 0;
}

function readOptions(argv: string[]) {
  let parsed: ReturnType<
    typeof parseArgs<{
      options: {
        schema: { type: 'string' };
        timezone: { type: 'string' };
        'site-timezones': { type: 'string' };
        'max-bytes': { type: 'string' };
        json: { type: 'boolean' };
      };
      allowPositionals: true;
    }>
  >;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        schema: { type: 'string' },
        timezone: { type: 'string' },
        'site-timezones': { type: 'string' },
        'max-bytes': { type: 'string' },
        json: { type: 'boolean' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const problems: string[] = [];
  if (positionals.length === 0) problems.push('no file given');
  const schema = values.schema ?? 'microgrid.v1';
  if (!(SCHEMA_IDS as readonly string[]).includes(schema))
    problems.push(`--schema "${schema}" is not one of ${SCHEMA_IDS.join(', ')}`);
  const fallback = values.timezone ?? process.env.PARSER_DEFAULT_TIMEZONE ?? 'UTC';
  if (!isValidTimeZone(fallback)) problems.push(`--timezone "${fallback}" is not an IANA time zone`);
  let zones: Record<string, string> = {};
  try {
    zones = siteZones(values['site-timezones'] ?? process.env.PARSER_SITE_TIMEZONES);
  } catch (error) {
    problems.push((error as Error).message);
  }
  for (const [site, zone] of Object.entries(zones))
    if (!isValidTimeZone(zone))
      problems.push(`--site-timezones: "${zone}" (site ${site}) is not an IANA time zone`);
  const maxText = values['max-bytes'] ?? process.env.PARSER_MAX_MESSAGE_BYTES ?? String(4 * 1024 * 1024);
  const maxBytes = Number(maxText);
  if (!Number.isInteger(maxBytes) || maxBytes < 1)
    problems.push(`--max-bytes "${maxText}" is not a positive integer`);
  if (problems.length > 0) throw new UsageError(problems.join('; '));
  return {
    files: positionals,
    schema,
    json: values.json === true,
    maxBytes,
    zoneForSite: zoneResolver(fallback, zones),
  };
}

function stdin(): Buffer {
  return readFileSync(0);
}
