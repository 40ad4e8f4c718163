import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT_REJECTS, runImportCommand } from './import-command.js';

const FIXTURES = resolve(import.meta.dirname, '../../../sample/import');

function capture(isTTY = false) {
  let text = '';
  return {
    isTTY,
    columns: 100,
    write: (s: string) => {
      text += s;
      return true;
    },
    get text() {
      return text;
    },
  };
}

const mapping = [
  '--time-column',
  'RECORD_TIME',
  '--values',
  'DRIVE_SPEED|RPM',
  '--device-column',
  'PHONE_NUM',
  '--site',
  'depot-1',
  '--measurement',
  'vehicle',
  '--dry-run',
];

describe('gridstream import --dry-run', () => {
  it('reads everything, sends nothing, shows the first samples and a summary; exit 0 without rejects', async () => {
    const out = capture();
    const err = capture();
    const code = await runImportCommand(
      [join(FIXTURES, 'vehicle-ampm.csv'), ...mapping, '--zone', 'Asia/Seoul'],
      out,
      {
        err,
      },
    );
    expect(code).toBe(0);
    expect(out.text).toContain(
      'line 2: {"site":"depot-1","equipment":"vehicle","device":"01000000002","ts":"2019-11-30T15:00:00.001Z"',
    );
    expect(out.text).toMatch(
      /vehicle-ampm\.csv \(csv, utf-8\): 6 rows read, 6 sent in 1 message\(s\), 0 rejected/,
    );
    expect(out.text).toContain('sent to nowhere (dry run)');
    expect(err.text).toBe(''); // not a terminal and quick: no progress lines
  });

  it('lists every reject as file:line reason detail and exits 3', async () => {
    const out = capture();
    const code = await runImportCommand([join(FIXTURES, 'malformed-rows.csv'), ...mapping], out, {
      err: capture(),
    });
    expect(code).toBe(EXIT_REJECTS);
    for (const line of [
      'malformed-rows.csv:5 bad_time',
      'malformed-rows.csv:6 not_a_number',
      'malformed-rows.csv:7 missing_device',
      'malformed-rows.csv:8 column_count',
      'malformed-rows.csv:9 no_values',
      'malformed-rows.csv:14 malformed_csv',
    ]) {
      expect(out.text).toContain(line);
    }
  });

  it('accepts --values repeated and --sheet; draws a progress bar on a terminal', async () => {
    const out = capture();
    const err = capture(true);
    const args = [
      join(FIXTURES, 'vehicle-two-sheets.xlsx'),
      ...mapping,
      '--values',
      'RPM',
      '--sheet',
      'Morning',
    ];
    expect(await runImportCommand(args, out, { err })).toBe(0);
    expect(out.text).toContain('(xlsx, sheets Morning): 5 rows read, 5 sent');
    expect(err.text).toContain('import [');
  });

  it('a file without the chosen columns is not imported: exit 1, named in the summary', async () => {
    const out = capture();
    const code = await runImportCommand([join(FIXTURES, 'korean-euc-kr.csv'), ...mapping], out, {
      err: capture(),
    });
    expect(code).toBe(1);
    expect(out.text).toMatch(
      /NOT IMPORTED: columns .* not in the header; the columns are \(unnamed\), "기록시간"/,
    );
  });

  it('reports every bad flag by its flag name, with the usage; exit 2', async () => {
    const out = capture();
    const code = await runImportCommand(
      ['x.csv', '--values', '', '--measurement', 'Vehicle', '--zone', 'Mars/Base'],
      out,
      {
        err: capture(),
      },
    );
    expect(code).toBe(2);
    for (const flag of [
      '--time-column',
      '--values',
      '--site',
      '--measurement',
      '--zone',
      '--device-column',
    ]) {
      expect(out.text).toContain(`  ${flag}: `);
    }
    expect(out.text).toContain('e.g. "vehicle"');
  });
});
