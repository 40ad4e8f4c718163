import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runParseCommand } from './parse-command.js';

// Read inside the tests: a missing reference file must fail them, never skip them.
const REFERENCE = fileURLToPath(
  new URL('../../../../shared/reference/microgrid/sample.json', import.meta.url),
);

async function run(argv: string[], stdin = '') {
  let text = '';
  const code = await runParseCommand(argv, { write: (s) => (text += s) }, () => Buffer.from(stdin));
  return { code, text };
}

describe('gridstream parse', () => {
  it('prints the 17 records of the reference gateway message in its site zone, and exits 0', async () => {
    const { code, text } = await run([REFERENCE, '--timezone', 'Asia/Seoul']);
    expect(code).toBe(0);
    const lines = text.trim().split('\n');
    expect(lines.at(-1)).toBe(`${REFERENCE}: 17 record(s); 1 control character(s) escaped`);
    const records = lines.slice(0, -1).map((l) => JSON.parse(l));
    expect(records).toHaveLength(17);
    // 2023-06-09 20:34:06 in Seoul; the record the parser would produce, lineage naming the file.
    expect(records[0]).toMatchObject({
      site: '000001',
      equipment: 'battery',
      device: '01',
      ts: '2023-06-09T11:34:06.000Z',
      fields: { soc: 31.5 },
      lineage: { topic: REFERENCE, partition: 0, offset: '0' },
    });
  });

  it('--json: one object per file, with the dead letter and its reason for a bad one; exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gs-parse-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"header":{"timestamp":"2023-06-09 20:34:06"},"FieldDeviceLayer":{}}');
    const { code, text } = await run([REFERENCE, bad, '--json']);
    expect(code).toBe(1);
    const [good, refused] = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(good.records).toHaveLength(17);
    expect(good).toMatchObject({
      file: REFERENCE,
      deadLetter: null,
      controlCharsEscaped: 1,
      nonFiniteValues: 0,
    });
    expect(refused).toMatchObject({ file: bad, records: [], deadLetter: { reason: 'missing_header' } });
    expect(refused.deadLetter.message).toContain('site_id');
  });

  it('reads stdin for -, and decodes collector samples with --schema samples.v1', async () => {
    const samples = JSON.stringify({
      v: 1,
      samples: [
        { site: 's1', equipment: 'meter', device: 'm1', ts: '2024-01-01T00:00:00.000Z', fields: { kw: 1.5 } },
      ],
    });
    const { code, text } = await run(['-', '--schema', 'samples.v1', '--json'], samples);
    const out = JSON.parse(text);
    expect({ code, deadLetter: out.deadLetter }).toEqual({ code: 0, deadLetter: null });
    expect(out.records).toEqual([
      expect.objectContaining({
        site: 's1',
        equipment: 'meter',
        device: 'm1',
        fields: { kw: 1.5 },
        schema: 'samples.v1',
      }),
    ]);
  });

  it('names every usage problem at once and exits 2', async () => {
    const { code, text } = await run([
      '--schema',
      'x',
      '--timezone',
      'Mars/Base',
      '--site-timezones',
      'a=Nowhere',
    ]);
    expect(code).toBe(2);
    for (const problem of ['no file given', '--schema "x"', '"Mars/Base"', '"Nowhere" (site a)'])
      expect(text).toContain(problem);
  });

  it('a file that cannot be read is reported and fails the run, the others are still parsed', async () => {
    const { code, text } = await run(['/nonexistent/raw.json', REFERENCE]);
    expect(code).toBe(1);
    expect(text).toContain('cannot read /nonexistent/raw.json');
    expect(text).toContain(`${REFERENCE}: 17 record(s)`);
  });
});
