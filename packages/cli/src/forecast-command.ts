import { basename } from 'node:path';
import { formatTable } from '@gridstream/archive-tools';
import {
  type BacktestResult,
  backtest,
  countMissing,
  type ForecastModel,
  formatStep,
  holtWinters,
  parseStep,
  SeriesError,
  seasonalNaive,
  type TrendKind,
} from '@gridstream/forecast';
import { isValidTimeZone } from '@gridstream/schema';
import {
  type CommandIo,
  EXIT_USAGE,
  type Out,
  parseCommandArgs,
  runCommand,
  UsageError,
  wantsHelp,
} from './archive-cli-io.js';
import { InputError, readCsvSeries } from './forecast-command-input.js';

const USAGE = `gridstream forecast backtest --file data.csv --time-column C --value-column C --period 24[,168]
    [--step 1d|1h|15m] [--horizon N] [--min-train N] [--every N] [--models hw,snaive,naive]
    [--level 0.95] [--trend damped|additive|none] [--timezone Zone] [--json]

  Rolling-origin backtest of forecast models on one CSV column (docs/forecast.md): at every origin the
  models are fitted on the values before it only and forecast the next --horizon steps; the errors of
  all origins are pooled.
  --file, --time-column, --value-column   the series. Times as the importer reads them (ISO 8601,
                   YYYY-MM-DD HH:MM:SS, a bare date, epoch s/ms), zone-less ones in --timezone (default UTC).
                   An empty value cell is a gap; any other non-number refuses the file.
  --step           bucket width; values are averaged per bucket, empty buckets are gaps (default: the
                   median spacing of the times)
  --period         seasonal period(s) in steps, one or two: 7 (weekly on daily data), 24 or 24,168 (hourly)
  --horizon        steps forecast from each origin (default: the shortest period)
  --min-train      values before the first origin (default: a third of the series, at least what the
                   models need: two seasons of the longest period for hw)
  --every          steps between origins (default: the horizon)
  --models         hw: Holt–Winters, additive seasons for every period, --trend (default damped);
                   snaive: seasonal naive at the longest period; naive: last value. Default hw,snaive.
  --level          prediction-interval level whose coverage is reported (default 0.95)
  --json           one document: {"file", "column", "series": {"start", "end", "step", "values", "missing"},
                   "periods", "horizon", "minTrain", "every", "level", "scalePeriod", "origins",
                   "models": [{"model", "label", "mae", "rmse", "mape", "mase", "coverage", "forecasts",
                   "zeroActuals", "fitMs": {"mean", "max", "total"}, "perHorizon": [{"h", "mae", "rmse", "forecasts"}]}]}
  MAPE skips zero actuals; MASE divides by the in-sample MAE of the seasonal naive at the longest period,
  per origin; fit ms is wall time per fit (the only figure that differs between runs).
  Exit status: 0 done, 1 the file cannot be used (unreadable, non-numeric values, too short), 2 usage.`;

const MODEL_NAMES = ['hw', 'snaive', 'naive'] as const;
type ModelName = (typeof MODEL_NAMES)[number];
const TRENDS: readonly TrendKind[] = ['damped', 'additive', 'none'];

/** `gridstream forecast …`; `argv` starts after `forecast`. Returns the exit code; never throws. */
export async function runForecastCommand(argv: string[], out: Out, io: CommandIo = {}): Promise<number> {
  const err = io.err ?? process.stderr;
  const [sub, ...rest] = argv;
  if (sub === undefined || wantsHelp(argv)) {
    out.write(`${USAGE}\n`);
    return sub === undefined ? EXIT_USAGE : 0;
  }
  // With --json, stdout is the JSON document or nothing: a usage mistake goes to stderr.
  const usageOut = argv.includes('--json') ? err : out;
  if (sub !== 'backtest') {
    usageOut.write(`gridstream forecast: unknown subcommand "${sub}"\n\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  return runCommand('forecast backtest', USAGE, usageOut, err, async () => {
    const options = readOptions(rest);
    let input: Awaited<ReturnType<typeof readCsvSeries>>;
    try {
      input = await readCsvSeries(options.file, options);
    } catch (error) {
      if (error instanceof SeriesError) throw new InputError(error.message);
      throw error;
    }
    const { series } = input;
    const n = series.values.length;
    const longest = Math.max(...options.periods);
    const models = options.models.map((name) => buildModel(name, options.periods, options.trend));
    const needed = Math.max(...models.map((m) => m.minLength));
    const horizon = options.horizon ?? Math.min(...options.periods);
    const step = formatStep(series.step);
    if (n < needed + horizon)
      throw new InputError(
        `${options.file} is too short for period ${options.periods.join(',')}: ${n} values at ${step}; ` +
          `${models.find((m) => m.minLength === needed)!.label} needs ${needed} to train plus the horizon ${horizon} ` +
          `to score, ${needed + horizon} in all`,
      );
    const minTrain = options.minTrain ?? Math.max(needed, Math.floor(n / 3));
    if (minTrain < needed)
      throw new UsageError(
        `--min-train ${minTrain} is shorter than ${models.find((m) => m.minLength > minTrain)!.label} needs (${needed})`,
      );
    if (minTrain + horizon > n)
      throw new UsageError(
        `--min-train ${minTrain} plus --horizon ${horizon} is more than the ${n} values of the series`,
      );
    const result = backtest(series, models, {
      horizon,
      minTrain,
      every: options.every ?? horizon,
      level: options.level,
      scalePeriod: longest,
      timing: true,
    });
    const document = {
      file: options.file,
      column: options.valueColumn,
      series: {
        start: new Date(series.start).toISOString(),
        end: new Date(series.start + (n - 1) * series.step).toISOString(),
        step,
        values: n,
        missing: countMissing(series.values),
        rows: input.rows,
      },
      periods: options.periods,
      trend: options.trend,
      horizon: result.horizon,
      minTrain: result.minTrain,
      every: result.every,
      level: result.level,
      scalePeriod: result.scalePeriod,
      origins: result.origins.length,
      models: result.models.map((m, i) => ({ model: options.models[i]!, ...m })),
    };
    if (options.json) {
      out.write(`${JSON.stringify(document)}\n`);
      return 0;
    }
    out.write(`${summary(options.file, options.valueColumn, document, result)}\n`);
    out.write(`${formatTable(TABLE_COLUMNS, result.models.map(tableRow))}\n`);
    return 0;
  });
}

const TABLE_COLUMNS = ['model', 'MAE', 'RMSE', 'MAPE %', 'MASE', 'coverage', 'n forecasts', 'fit ms'];

function tableRow(m: BacktestResult['models'][number]): (string | null)[] {
  return [
    m.label,
    figure(m.mae),
    figure(m.rmse),
    m.mape === null ? null : figure(m.mape),
    m.mase === null ? null : m.mase.toFixed(3),
    m.coverage.toFixed(3),
    String(m.forecasts),
    m.fitMs ? m.fitMs.mean.toFixed(2) : null,
  ];
}

/** Four significant digits, never in exponent notation (the table right-aligns numeric columns). */
function figure(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const digits = Math.max(0, 3 - Math.floor(Math.log10(Math.abs(v))));
  return v.toFixed(Math.min(digits, 12));
}

function summary(
  file: string,
  column: string,
  d: { series: { start: string; step: string; values: number; missing: number }; origins: number },
  r: BacktestResult,
): string {
  return (
    `${basename(file)} ${column}: ${d.series.values} values at ${d.series.step} from ${d.series.start} ` +
    `(${d.series.missing} missing)\n` +
    `${d.origins} origins from value ${r.minTrain} every ${r.every}, horizon ${r.horizon}, ` +
    `${Math.round(r.level * 1000) / 10} % intervals; MASE scaled by snaive(${r.scalePeriod})`
  );
}

function buildModel(name: ModelName, periods: number[], trend: TrendKind): ForecastModel {
  if (name === 'hw') return holtWinters({ periods, trend });
  if (name === 'snaive') return seasonalNaive(Math.max(...periods));
  return seasonalNaive(1);
}

function positiveInt(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1)
    throw new UsageError(`--${flag} must be a whole number ≥ 1, not "${text}"`);
  return Number(text);
}

function readOptions(argv: string[]) {
  const { values, positionals } = parseCommandArgs(argv, {
    file: { type: 'string' },
    'time-column': { type: 'string' },
    'value-column': { type: 'string' },
    step: { type: 'string' },
    period: { type: 'string' },
    horizon: { type: 'string' },
    'min-train': { type: 'string' },
    every: { type: 'string' },
    models: { type: 'string' },
    level: { type: 'string' },
    trend: { type: 'string' },
    timezone: { type: 'string' },
    json: { type: 'boolean' },
  });
  const problems: string[] = [];
  const check = (fn: () => void) => {
    try {
      fn();
    } catch (error) {
      problems.push((error as Error).message);
    }
  };
  if (positionals.length > 0) problems.push(`unexpected argument "${positionals[0]}"`);
  for (const flag of ['file', 'time-column', 'value-column', 'period'] as const)
    if (values[flag] === undefined) problems.push(`--${flag} is required`);
  let periods: number[] = [];
  check(() => {
    if (values.period === undefined) return;
    periods = values.period.split(',').map((p) => positiveInt(p.trim(), 'period')!);
    if (periods.length > 2) throw new UsageError('--period takes one or two periods, e.g. 24 or 24,168');
    if (periods.some((p) => p < 2)) throw new UsageError('--period values must be ≥ 2 steps');
    if (new Set(periods).size !== periods.length) throw new UsageError('--period values must differ');
  });
  let step: number | undefined;
  check(() => {
    if (values.step !== undefined) step = parseStep(values.step);
  });
  let models: ModelName[] = ['hw', 'snaive'];
  check(() => {
    if (values.models === undefined) return;
    const names = values.models.split(',').map((m) => m.trim());
    const unknown = names.filter((m) => !(MODEL_NAMES as readonly string[]).includes(m));
    if (unknown.length > 0)
      throw new UsageError(
        `unknown model ${unknown.map((u) => `"${u}"`).join(', ')} (known: ${MODEL_NAMES.join(', ')})`,
      );
    if (new Set(names).size !== names.length) throw new UsageError('--models names a model twice');
    models = names as ModelName[];
  });
  const level = values.level === undefined ? 0.95 : Number(values.level);
  if (!(level > 0 && level < 1))
    problems.push(`--level must be between 0 and 1 (e.g. 0.8), not "${values.level}"`);
  const trend = (values.trend ?? 'damped') as TrendKind;
  if (!TRENDS.includes(trend))
    problems.push(`--trend must be one of ${TRENDS.join(', ')}, not "${values.trend}"`);
  const timeZone = values.timezone ?? 'UTC';
  if (!isValidTimeZone(timeZone)) problems.push(`--timezone "${timeZone}" is not an IANA time zone`);
  let horizon: number | undefined;
  let minTrain: number | undefined;
  let every: number | undefined;
  check(() => {
    horizon = positiveInt(values.horizon, 'horizon');
  });
  check(() => {
    minTrain = positiveInt(values['min-train'], 'min-train');
  });
  check(() => {
    every = positiveInt(values.every, 'every');
  });
  if (problems.length > 0) throw new UsageError(problems.join('; '));
  return {
    file: values.file!,
    timeColumn: values['time-column']!,
    valueColumn: values['value-column']!,
    step,
    timeZone,
    periods,
    horizon,
    minTrain,
    every,
    models,
    level,
    trend,
    json: values.json === true,
  };
}
