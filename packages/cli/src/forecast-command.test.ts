import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runForecastCommand } from './forecast-command.js';
import { splitCsvLine } from './forecast-command-input.js';

// Read inside the tests: a missing reference file must fail them, never skip them.
const WATER = fileURLToPath(
  new URL('../../../../shared/reference/water-meter-anomaly/preprocessed.csv', import.meta.url),
);
const WATER_ARGS = ['--file', WATER, '--time-column', 'time', '--value-column', 'JM1_p'];

async function run(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runForecastCommand(
    argv,
    { write: (s) => (stdout += s) },
    { err: { write: (s: string) => (stderr += s) } },
  );
  return { code, stdout, stderr };
}

async function tempCsv(text: string): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), 'gs-forecast-')), 'series.csv');
  await writeFile(path, text);
  return path;
}

describe('gridstream forecast backtest', () => {
  it('runs on the water-meter reference series and prints both models, Holt–Winters ahead', async () => {
    const { code, stdout } = await run([
      'backtest',
      ...WATER_ARGS,
      '--period',
      '7',
      '--horizon',
      '7',
      '--min-train',
      '120',
      '--every',
      '7',
    ]);
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[0]).toBe(
      'preprocessed.csv JM1_p: 367 values at 1d from 2020-01-01T00:00:00.000Z (0 missing)',
    );
    // Origins 120, 127, …, 358 (358 + 7 ≤ 367 < 365 + 7): 35 of them, 245 forecasts per model.
    expect(lines[1]).toBe(
      '35 origins from value 120 every 7, horizon 7, 95 % intervals; MASE scaled by snaive(7)',
    );
    const row = (label: string) =>
      lines
        .find((l) => l.startsWith(`| ${label} `))
        ?.split('|')
        .map((c) => c.trim());
    expect(row('hw(7)')).toBeDefined();
    expect(row('snaive(7)')).toBeDefined();
    expect(row('hw(7)')![7]).toBe('245');
    expect(row('snaive(7)')![7]).toBe('245');
  });

  it('--json: the seasonal naive figures match a direct computation from the file', async () => {
    const { code, stdout, stderr } = await run([
      'backtest',
      ...WATER_ARGS,
      '--period',
      '7',
      '--horizon',
      '7',
      '--min-train',
      '120',
      '--every',
      '7',
      '--models',
      'snaive,hw',
      '--level',
      '0.8',
      '--json',
    ]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const doc = JSON.parse(stdout);
    expect(doc.series).toEqual({
      start: '2020-01-01T00:00:00.000Z',
      end: '2021-01-01T00:00:00.000Z',
      step: '1d',
      values: 367,
      missing: 0,
      rows: 367,
    });
    expect(doc).toMatchObject({
      horizon: 7,
      minTrain: 120,
      every: 7,
      level: 0.8,
      scalePeriod: 7,
      origins: 35,
    });
    // Independent of the package: the seasonal naive forecasts y(o + k) with y(o − 7 + k).
    const y = readFileSync(WATER, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => Number(l.split(',')[1]));
    let abs = 0;
    let count = 0;
    for (let o = 120; o + 7 <= y.length; o += 7)
      for (let k = 0; k < 7; k++) {
        abs += Math.abs(y[o + k]! - y[o - 7 + k]!);
        count++;
      }
    const [snaive, hw] = doc.models;
    expect(snaive).toMatchObject({ model: 'snaive', label: 'snaive(7)', forecasts: count });
    expect(snaive.mae).toBeCloseTo(abs / count, 12);
    expect(hw).toMatchObject({ model: 'hw', label: 'hw(7)', forecasts: 245 });
    expect(hw.mae).toBeLessThan(snaive.mae);
    expect(hw.perHorizon).toHaveLength(7);
    expect(hw.fitMs.mean).toBeGreaterThan(0);
  });

  it('--help exits 0; usage mistakes exit 2 and name every problem', async () => {
    expect((await run(['--help'])).code).toBe(0);
    expect((await run(['backtest', '--help'])).stdout).toMatch(/^gridstream forecast backtest --file/);
    expect((await run([])).code).toBe(2);
    const unknownSub = await run(['predict']);
    expect(unknownSub.code).toBe(2);
    expect(unknownSub.stdout).toContain('unknown subcommand "predict"');

    const bad = await run([
      'backtest',
      ...WATER_ARGS,
      '--period',
      '7',
      '--models',
      'hw,lstm',
      '--level',
      '95',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toContain('unknown model "lstm" (known: hw, snaive, naive)');
    expect(bad.stdout).toContain('--level must be between 0 and 1 (e.g. 0.8), not "95"');

    const missing = await run(['backtest', '--file', WATER]);
    expect(missing.code).toBe(2);
    expect(missing.stdout).toContain(
      '--time-column is required; --value-column is required; --period is required',
    );

    const periods = await run(['backtest', ...WATER_ARGS, '--period', '7,30,365', '--step', '1w']);
    expect(periods.code).toBe(2);
    expect(periods.stdout).toContain('--period takes one or two periods');
    expect(periods.stdout).toContain('step "1w" is not a duration like 15m, 1h or 1d');

    // With --json stdout stays empty: the mistake goes to stderr.
    const json = await run(['backtest', ...WATER_ARGS, '--period', '7', '--min-train', '10', '--json']);
    expect(json).toMatchObject({ code: 2, stdout: '' });
    expect(json.stderr).toContain('--min-train 10 is shorter than hw(7) needs (14)');
  });

  it('refuses a file with non-numeric values, naming the lines (exit 1)', async () => {
    const path = await tempCsv('time,kw\n2024-01-01,1.5\n2024-01-02,n/a\n2024-01-03,\n2024-01-04,0x10\n');
    const { code, stderr, stdout } = await run([
      'backtest',
      '--file',
      path,
      '--time-column',
      'time',
      '--value-column',
      'kw',
      '--period',
      '2',
    ]);
    expect({ code, stdout }).toEqual({ code: 1, stdout: '' });
    expect(stderr).toBe(
      `gridstream forecast backtest: ${path}: 2 row(s) refused (an empty value cell is a gap; anything else must be a number):\n` +
        '  line 3: kw "n/a" is not a number\n  line 5: kw "0x10" is not a number\n',
    );
  });

  it('refuses a series too short for its periods, and names a missing column (exit 1)', async () => {
    // 28 days, ISO times with a zone, the header's value column quoted.
    const rows = Array.from(
      { length: 28 },
      (_, i) => `2024-02-${String(1 + i).padStart(2, '0')}T00:00:00Z,${i}`,
    );
    const path = await tempCsv(`ts,"v"\n${rows.join('\n')}\n`);
    const short = await run([
      'backtest',
      '--file',
      path,
      '--time-column',
      'ts',
      '--value-column',
      'v',
      '--period',
      '7,30',
      '--step',
      '1d',
    ]);
    expect(short.code).toBe(1);
    expect(short.stderr).toContain(
      'is too short for period 7,30: 28 values at 1d; hw(7,30) needs 60 to train plus the horizon 7 to score, 67 in all',
    );
    const column = await run([
      'backtest',
      '--file',
      path,
      '--time-column',
      'time',
      '--value-column',
      'v',
      '--period',
      '7',
    ]);
    expect(column.code).toBe(1);
    expect(column.stderr).toContain('has no time column "time"; its columns are: "ts", "v"');
  });

  it('splits quoted CSV cells', () => {
    expect(splitCsvLine('a,"b,c","d""e",')).toEqual(['a', 'b,c', 'd"e', '']);
  });
});
