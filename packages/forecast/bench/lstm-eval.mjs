#!/usr/bin/env node
/**
 * An LSTM forecaster like the water-meter reference project's, trained and run in this process with
 * TensorFlow.js on its pure-JavaScript CPU backend, scored with the same rolling-origin backtest as
 * `gridstream forecast backtest` (docs/forecast.md, "LSTM"): same origins (min-train, every, horizon),
 * same pooled MAE / RMSE / MAPE / MASE / coverage, next to hw, snaive and naive fitted at the same origins
 * by the package's own `backtest()`.
 *
 * README — this is a measurement, not part of the product. TensorFlow.js is NOT a dependency of any
 * workspace: install it outside the repository's manifests, then build the package and run:
 *
 *   npm install --prefix .local/lstm @tensorflow/tfjs@4.22.0     # 69 packages, 294 MB, no native addon
 *   npx tsc -b packages/forecast
 *   node packages/forecast/bench/lstm-eval.mjs --file ../shared/reference/water-meter-anomaly/preprocessed.csv \
 *     --time-column time --value-column JM1_p --period 7 --horizon 7 --min-train 120 --every 7 \
 *     --window 7 --units 32 --retrain-every 5 --seeds 1,2,3 --repeat-check
 *   node packages/forecast/bench/simulate-site.mjs                # .local/forecast/site-000001.csv
 *   node packages/forecast/bench/lstm-eval.mjs --file .local/forecast/site-000001.csv --time-column time \
 *     --value-column soc_b01 --step 1h --period 24 --horizon 24 --min-train 336 --every 24 \
 *     --window 24 --units 16 --batch 64 --retrain-every 7 --seeds 1,2,3 --repeat-check
 *
 * About 2.5 minutes each on the shared 2-core VM (one core: tfjs runs on the main thread). The figures and
 * the verdict (not shipped) are in docs/forecast.md, "LSTM". `LSTM_DEBUG=1` prints every epoch's
 * validation loss. `mean` and `ar1` in the table are two cheap references computed here, not package models.
 *
 * (`--tfjs DIR` if it is installed elsewhere.) The LSTM: standardised values (mean and sd of the training
 * window), input the last --window values, one LSTM layer of --units (or --layers 2, the reference's
 * stacked pair), then a dense layer giving all --horizon steps at once (`--output direct`) or one step
 * fed back --horizon times (`--output recursive`, the reference's one-step model). Adam, MSE loss, early
 * stopping on a validation tail (the last --val share of the training window, by target time; the
 * weights of the best validation epoch are kept). Retrained from scratch every --retrain-every origins;
 * in between the last fit forecasts from the newest --window values (its weights do not see them, as a
 * deployed model between refits). The interval is mean ± z·sd(h), sd(h) the RMS validation error of step
 * h. Every random choice comes from --seeds (weight init, training-sample order; tfjs shuffle is off
 * because it uses Math.random); `--repeat-check` fits the first origin twice with the same seed and
 * compares the forecasts bit for bit.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const rssAtStart = process.memoryUsage().rss;
const root = join(import.meta.dirname, '..', '..', '..');
const forecast = await import(join(root, 'packages/forecast/dist/index.js'));

const { values: args } = parseArgs({
  options: {
    file: { type: 'string' },
    'time-column': { type: 'string' },
    'value-column': { type: 'string' },
    step: { type: 'string' },
    period: { type: 'string' },
    horizon: { type: 'string' },
    'min-train': { type: 'string' },
    every: { type: 'string' },
    level: { type: 'string', default: '0.8' },
    window: { type: 'string', default: '7' },
    units: { type: 'string', default: '32' },
    layers: { type: 'string', default: '1' },
    output: { type: 'string', default: 'direct' },
    batch: { type: 'string', default: '32' },
    lr: { type: 'string', default: '0.005' },
    epochs: { type: 'string', default: '100' },
    patience: { type: 'string', default: '10' },
    val: { type: 'string', default: '0.2' },
    'retrain-every': { type: 'string', default: '1' },
    seeds: { type: 'string', default: '1,2,3' },
    'repeat-check': { type: 'boolean', default: false },
    tfjs: { type: 'string', default: join(root, '.local/lstm') },
    json: { type: 'string' },
  },
});
const int = (name) => {
  const v = Number(args[name]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be an integer ≥ 1`);
  return v;
};
const periods = args.period.split(',').map(Number);
const horizon = int('horizon');
const minTrain = int('min-train');
const every = int('every');
const level = Number(args.level);
const cfg = {
  window: int('window'),
  units: int('units'),
  layers: int('layers'),
  output: args.output,
  batch: int('batch'),
  lr: Number(args.lr),
  epochs: int('epochs'),
  patience: int('patience'),
  val: Number(args.val),
  retrainEvery: int('retrain-every'),
};
if (!['direct', 'recursive'].includes(cfg.output)) throw new Error('--output is direct or recursive');
const seeds = args.seeds.split(',').map(Number);

// The series, read as fit-time.mjs does (a date-only time is UTC midnight, an empty cell a gap).
const lines = readFileSync(args.file, 'utf8').trim().split(/\r?\n/);
const header = lines[0].split(',');
const tCol = header.indexOf(args['time-column']);
const vCol = header.indexOf(args['value-column']);
const points = lines.slice(1).map((line) => {
  const cells = line.split(',');
  const time = /^\d{4}-\d{2}-\d{2}$/.test(cells[tCol]) ? `${cells[tCol]}T00:00:00Z` : cells[tCol];
  return { ts: Date.parse(time), value: cells[vCol] === '' ? Number.NaN : Number(cells[vCol]) };
});
const step = args.step ? forecast.parseStep(args.step) : forecast.inferStep(points.map((p) => p.ts));
const series = forecast.resample(points, { step });
const y = series.values;
const n = y.length;
const scalePeriod = Math.max(...periods);
const origins = [];
for (let o = minTrain; o + horizon <= n; o += every) origins.push(o);
const z = forecast.intervalZ(level);

// ---- the package's models through the package's backtest (the reference figures) ----
const baselines = [
  forecast.holtWinters({ periods }),
  forecast.seasonalNaive(scalePeriod),
  forecast.seasonalNaive(1),
];
const reference = forecast.backtest(series, baselines, {
  horizon,
  minTrain,
  every,
  level,
  scalePeriod,
  timing: true,
});
if (JSON.stringify(reference.origins) !== JSON.stringify(origins))
  throw new Error('origins differ from backtest()');

/**
 * The scoring of backtest(), line for line in the same order (so identical to the last bit), for
 * forecasts made outside it: forecasts[oi][k] = { mean, lower, upper } for origin origins[oi], step k + 1.
 */
const scales = origins.map((o) => forecast.seasonalNaiveScale(y.slice(0, o), scalePeriod).mae);
function score(label, forecasts) {
  const abs = new Float64Array(horizon);
  const sq = new Float64Array(horizon);
  const count = new Uint32Array(horizon);
  let apeSum = 0;
  let apeCount = 0;
  let scaledSum = 0;
  let scaledCount = 0;
  let covered = 0;
  origins.forEach((o, oi) => {
    const q = scales[oi];
    for (let k = 0; k < horizon; k++) {
      const actual = y[o + k];
      if (!Number.isFinite(actual)) continue;
      const f = forecasts[oi][k];
      const e = actual - f.mean;
      abs[k] += Math.abs(e);
      sq[k] += e * e;
      count[k] += 1;
      if (actual !== 0) {
        apeSum += Math.abs(e / actual);
        apeCount++;
      }
      if (q > 0 && Number.isFinite(q)) {
        scaledSum += Math.abs(e) / q;
        scaledCount++;
      }
      if (actual >= f.lower && actual <= f.upper) covered++;
    }
  });
  const total = count.reduce((a, b) => a + b, 0);
  return {
    label,
    mae: abs.reduce((a, b) => a + b, 0) / total,
    rmse: Math.sqrt(sq.reduce((a, b) => a + b, 0) / total),
    mape: apeCount > 0 ? (100 * apeSum) / apeCount : null,
    mase: scaledCount > 0 ? scaledSum / scaledCount : null,
    coverage: covered / total,
    forecasts: total,
    perHorizon: Array.from({ length: horizon }, (_, k) => ({ h: k + 1, mae: abs[k] / count[k] })),
  };
}
// Check the copy: the seasonal naive scored here must equal backtest()'s figures exactly.
{
  const sn = forecast.seasonalNaive(scalePeriod);
  const mine = score(
    'check',
    origins.map((o) => sn.fit(forecast.head(series, o)).forecast(horizon, { level })),
  );
  const theirs = reference.models[1];
  for (const key of ['mae', 'rmse', 'mape', 'mase', 'coverage', 'forecasts'])
    if (mine[key] !== theirs[key]) throw new Error(`scoring differs from backtest() on ${key}`);
}

// The training window's mean, for every step (interval ± z·its sd): what an LSTM that learned nothing
// but the level of its standardised targets would forecast.
const climatology = score(
  'mean',
  origins.map((o) => {
    const obs = y.slice(0, o).filter(Number.isFinite);
    const m = obs.reduce((a, b) => a + b, 0) / obs.length;
    const sd = Math.sqrt(obs.reduce((a, b) => a + (b - m) ** 2, 0) / (obs.length - 1));
    return Array.from({ length: horizon }, () => ({ mean: m, lower: m - z * sd, upper: m + z * sd }));
  }),
);

// AR(1) around the training mean, least squares: ŷ(h) = μ + φ^h·(y(o−1) − μ), var(h) = σ²(1 − φ^2h)/(1 − φ²).
// One parameter, microseconds: the mean reversion a bounded series (SoC) has, and nothing else.
const ar1 = score(
  'ar1',
  origins.map((o) => {
    const tr = y.slice(0, o);
    const obs = tr.filter(Number.isFinite);
    const m = obs.reduce((a, b) => a + b, 0) / obs.length;
    let sxy = 0;
    let sxx = 0;
    for (let t = 1; t < o; t++)
      if (Number.isFinite(tr[t]) && Number.isFinite(tr[t - 1])) {
        sxy += (tr[t] - m) * (tr[t - 1] - m);
        sxx += (tr[t - 1] - m) ** 2;
      }
    const phi = Math.max(-0.999, Math.min(0.999, sxy / sxx));
    let sse = 0;
    let pairs = 0;
    for (let t = 1; t < o; t++)
      if (Number.isFinite(tr[t]) && Number.isFinite(tr[t - 1])) {
        sse += (tr[t] - m - phi * (tr[t - 1] - m)) ** 2;
        pairs++;
      }
    const s2 = sse / (pairs - 2);
    let last = m;
    for (let t = o - 1; t >= 0; t--)
      if (Number.isFinite(tr[t])) {
        last = tr[t];
        break;
      }
    return Array.from({ length: horizon }, (_, k) => {
      const mean = m + phi ** (k + 1) * (last - m);
      const sd = Math.sqrt((s2 * (1 - phi ** (2 * (k + 1)))) / (1 - phi ** 2));
      return { mean, lower: mean - z * sd, upper: mean + z * sd };
    });
  }),
);

// ---- TensorFlow.js, pure-JS CPU backend ----
const requireTf = createRequire(join(args.tfjs, 'package.json'));
const tfPath = requireTf.resolve('@tensorflow/tfjs');
const tf = await import(pathToFileURL(tfPath).href);
await tf.setBackend('cpu');
await tf.ready();
tf.enableProdMode();
const rssAfterLoad = process.memoryUsage().rss;
let rssPeak = rssAfterLoad;
const sampleRss = () => {
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
};

/** mulberry32: the seeded order of the training samples. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Windows [i, i + w) → targets [i + w, i + w + out); only windows with every value observed. */
function samples(zs, from, to, w, out) {
  const xs = [];
  const ys = [];
  for (let i = from; i + w + out <= to; i++) {
    const win = zs.slice(i, i + w);
    const tgt = zs.slice(i + w, i + w + out);
    if (win.every(Number.isFinite) && tgt.every(Number.isFinite)) {
      xs.push(win);
      ys.push(tgt);
    }
  }
  return { xs, ys };
}

function buildModel(seed) {
  const { window: w, units, layers, output } = cfg;
  const model = tf.sequential();
  for (let l = 0; l < layers; l++)
    model.add(
      tf.layers.lstm({
        units,
        returnSequences: l < layers - 1,
        ...(l === 0 ? { inputShape: [w, 1] } : {}),
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 100 + 10 * l + 1 }),
        recurrentInitializer: tf.initializers.orthogonal({ seed: seed * 100 + 10 * l + 2 }),
      }),
    );
  model.add(
    tf.layers.dense({
      units: output === 'direct' ? horizon : 1,
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 100 + 99 }),
    }),
  );
  model.compile({ optimizer: tf.train.adam(cfg.lr), loss: 'meanSquaredError' });
  return model;
}

/** Standardised windows (rows of length w) → the horizon's standardised forecasts, one row each. */
function predict(model, windows) {
  const { window: w } = cfg;
  if (cfg.output === 'direct')
    return tf.tidy(() =>
      model
        .predict(
          tf.tensor3d(
            windows.map((r) => r.map((v) => [v])),
            [windows.length, w, 1],
          ),
        )
        .arraySync(),
    );
  const rows = windows.map((r) => [...r]);
  const out = windows.map(() => []);
  for (let k = 0; k < horizon; k++) {
    const next = tf.tidy(() =>
      model
        .predict(
          tf.tensor3d(
            rows.map((r) => r.slice(-w).map((v) => [v])),
            [rows.length, w, 1],
          ),
        )
        .arraySync(),
    );
    next.forEach(([v], j) => {
      rows[j].push(v);
      out[j].push(v);
    });
  }
  return out;
}

/** Fit on values[0, o): standardise, split a validation tail by target time, train with early stopping. */
async function fit(o, seed) {
  const { window: w, output } = cfg;
  const train = y.slice(0, o);
  const obs = train.filter(Number.isFinite);
  const mean = obs.reduce((a, b) => a + b, 0) / obs.length;
  const sd = Math.sqrt(obs.reduce((a, b) => a + (b - mean) ** 2, 0) / obs.length) || 1;
  const zs = train.map((v) => (v - mean) / sd);
  const cut = o - Math.max(horizon + 1, Math.round(cfg.val * o));
  const out = output === 'direct' ? horizon : 1;
  const tr = samples(zs, 0, cut, w, out);
  // Validation: windows whose whole horizon lies in [cut, o), scored over the full horizon.
  const va = samples(zs, cut - w, o, w, horizon);
  const order = tr.xs.map((_, i) => i);
  const random = rng(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const xTrain = tf.tensor3d(
    order.map((i) => tr.xs[i].map((v) => [v])),
    [order.length, w, 1],
  );
  const yTrain = tf.tensor2d(
    order.map((i) => tr.ys[i]),
    [order.length, out],
  );
  const model = buildModel(seed);
  let best = Number.POSITIVE_INFINITY;
  let bestEpoch = -1;
  let bestWeights = null;
  let epochs = 0;
  const valLoss = () => {
    const pred = predict(model, va.xs);
    let s = 0;
    let c = 0;
    for (let i = 0; i < pred.length; i++)
      for (let k = 0; k < pred[i].length; k++) {
        s += (pred[i][k] - va.ys[i][k]) ** 2;
        c++;
      }
    return s / c;
  };
  const t0 = performance.now();
  await model.fit(xTrain, yTrain, {
    epochs: cfg.epochs,
    batchSize: cfg.batch,
    shuffle: false,
    verbose: 0,
    callbacks: {
      onEpochEnd: async (epoch) => {
        epochs = epoch + 1;
        const loss = valLoss();
        sampleRss();
        if (process.env.LSTM_DEBUG)
          process.stderr.write(`  origin ${o} epoch ${epoch + 1}: val ${loss.toFixed(4)}\n`);
        if (loss < best) {
          best = loss;
          bestEpoch = epoch;
          for (const t of bestWeights ?? []) t.dispose();
          bestWeights = model.getWeights().map((t) => t.clone());
        } else if (epoch - bestEpoch >= cfg.patience) model.stopTraining = true;
      },
    },
  });
  model.setWeights(bestWeights);
  model.optimizer.dispose();
  for (const t of bestWeights) t.dispose();
  xTrain.dispose();
  yTrain.dispose();
  // Per-step RMS validation error in the series' units: the interval's sd.
  const pred = predict(model, va.xs);
  const sdStep = Array.from({ length: horizon }, (_, k) => {
    let s = 0;
    for (let i = 0; i < pred.length; i++) s += ((pred[i][k] - va.ys[i][k]) * sd) ** 2;
    return Math.sqrt(s / pred.length);
  });
  const fitMs = performance.now() - t0;
  return {
    model,
    mean,
    sd,
    sdStep,
    epochs,
    bestEpoch: bestEpoch + 1,
    fitMs,
    trainSamples: order.length,
    valSamples: va.xs.length,
  };
}

/** Forecast values[o, o + h) from the newest window before o (a gap takes the last observed value). */
function forecastAt(fitted, o) {
  const win = [];
  let last = fitted.mean;
  for (let t = o - cfg.window - 1; t >= 0; t--)
    if (Number.isFinite(y[t])) {
      last = y[t];
      break;
    }
  for (let t = o - cfg.window; t < o; t++) {
    if (Number.isFinite(y[t])) last = y[t];
    win.push((last - fitted.mean) / fitted.sd);
  }
  const t0 = performance.now();
  const [row] = predict(fitted.model, [win]);
  const ms = performance.now() - t0;
  const points = row.map((v, k) => {
    const m = v * fitted.sd + fitted.mean;
    return { mean: m, lower: m - z * fitted.sdStep[k], upper: m + z * fitted.sdStep[k] };
  });
  return { points, ms };
}

const label = `lstm(w${cfg.window},${cfg.layers > 1 ? `${cfg.layers}x` : ''}${cfg.units},${cfg.output === 'direct' ? `dense${horizon}` : 'rec1'})`;
const started = performance.now();
const runs = [];
for (const seed of seeds) {
  const forecasts = [];
  const fits = [];
  const inferMs = [];
  let fitted = null;
  for (let oi = 0; oi < origins.length; oi++) {
    const o = origins[oi];
    if (oi % cfg.retrainEvery === 0) {
      fitted?.model.dispose();
      fitted = await fit(o, seed);
      fits.push({
        origin: o,
        ms: fitted.fitMs,
        epochs: fitted.epochs,
        bestEpoch: fitted.bestEpoch,
        train: fitted.trainSamples,
        val: fitted.valSamples,
      });
      if (args['repeat-check'] && oi === 0 && seed === seeds[0]) {
        const again = await fit(o, seed);
        const a = forecastAt(fitted, o).points.map((p) => p.mean);
        const b = forecastAt(again, o).points.map((p) => p.mean);
        again.model.dispose();
        const same = a.every((v, k) => Object.is(v, b[k]));
        process.stdout.write(
          `repeat check (seed ${seed}, origin ${o}): ${same ? 'bit-identical forecasts' : `DIFFERENT: ${a} vs ${b}`}\n`,
        );
      }
    }
    const { points: f, ms } = forecastAt(fitted, o);
    if (oi > 0) inferMs.push(ms); // the first predict also pays for the JIT
    forecasts.push(f);
  }
  fitted?.model.dispose();
  const s = score(`${label} seed ${seed}`, forecasts);
  const fitTimes = fits.map((f) => f.ms);
  runs.push({
    seed,
    forecasts,
    fits,
    score: s,
    fitMs: {
      mean: fitTimes.reduce((a, b) => a + b, 0) / fitTimes.length,
      max: Math.max(...fitTimes),
      total: fitTimes.reduce((a, b) => a + b, 0),
    },
    inferMs: inferMs.reduce((a, b) => a + b, 0) / Math.max(1, inferMs.length),
  });
  process.stderr.write(
    `seed ${seed}: ${fits.length} fits, ${(fitTimes.reduce((a, b) => a + b, 0) / 1000).toFixed(1)} s, MAE ${s.mae}\n`,
  );
}
const elapsed = (performance.now() - started) / 1000;
// The mean of the seeds' forecasts (an ensemble: costs all the fits above).
const ensemble = score(
  `${label} mean of ${seeds.length} seeds`,
  origins.map((_, oi) =>
    Array.from({ length: horizon }, (_, k) => {
      const avg = (key) => runs.reduce((a, r) => a + r.forecasts[oi][k][key], 0) / runs.length;
      return { mean: avg('mean'), lower: avg('lower'), upper: avg('upper') };
    }),
  ),
);

// ---- report ----
const fig = (v) => {
  if (v === null) return '—';
  if (v === 0) return '0';
  const digits = Math.max(0, 3 - Math.floor(Math.log10(Math.abs(v))));
  return v.toFixed(Math.min(digits, 12));
};
const mib = (b) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const hs = [...new Set([1, 2, Math.min(4, horizon), horizon])];
const row = (m, fitMs, extra = '') =>
  `| ${m.label} | ${fig(m.mae)} | ${fig(m.rmse)} | ${fig(m.mape)} | ${m.mase?.toFixed(3) ?? '—'} | ${m.coverage.toFixed(3)} | ${m.forecasts} | ${fitMs} | ${hs.map((h) => fig(m.perHorizon[h - 1].mae)).join(' / ')} |${extra}`;
const out = [];
out.push(
  `${args['value-column']}: ${n} values at ${forecast.formatStep(step)} from ${new Date(series.start).toISOString()} (${forecast.countMissing(y)} missing)`,
);
out.push(
  `${origins.length} origins from value ${minTrain} every ${every}, horizon ${horizon}, ${level * 100} % intervals; MASE scaled by snaive(${scalePeriod})`,
);
out.push(
  `LSTM: window ${cfg.window}, ${cfg.layers} layer(s) × ${cfg.units} units, ${cfg.output}, Adam ${cfg.lr}, batch ${cfg.batch}, ≤ ${cfg.epochs} epochs, patience ${cfg.patience}, validation tail ${cfg.val}, retrained every ${cfg.retrainEvery} origin(s), seeds ${seeds.join(',')}`,
);
out.push('');
out.push(`| model | MAE | RMSE | MAPE % | MASE | coverage | n | fit ms | MAE h=${hs.join(' / ')} |`);
out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const m of reference.models) out.push(row({ ...m, perHorizon: m.perHorizon }, m.fitMs.mean.toFixed(2)));
out.push(row(climatology, '—'));
out.push(row(ar1, '—'));
for (const r of runs) out.push(row(r.score, r.fitMs.mean.toFixed(0)));
out.push(row(ensemble, runs.reduce((a, r) => a + r.fitMs.mean, 0).toFixed(0)));
out.push('');
const maes = runs.map((r) => r.score.mae);
out.push(
  `seed spread: MAE ${fig(Math.min(...maes))} … ${fig(Math.max(...maes))} (${((100 * (Math.max(...maes) - Math.min(...maes))) / Math.min(...maes)).toFixed(1)} %)`,
);
for (const r of runs)
  out.push(
    `seed ${r.seed}: ${r.fits.length} fits, fit ${(r.fitMs.mean / 1000).toFixed(2)} s mean / ${(r.fitMs.max / 1000).toFixed(2)} s max, epochs run ${r.fits.map((f) => f.epochs).join(',')} (best ${r.fits.map((f) => f.bestEpoch).join(',')}), train/val samples ${r.fits[0].train}/${r.fits[0].val} … ${r.fits.at(-1).train}/${r.fits.at(-1).val}, one forecast ${r.inferMs.toFixed(2)} ms`,
  );
out.push(
  `RSS: ${mib(rssAtStart)} at start, ${mib(rssAfterLoad)} with tfjs loaded, ${mib(rssPeak)} peak while training; tensors left: ${tf.memory().numTensors}; tfjs ${tf.version.tfjs} backend ${tf.getBackend()}`,
);
out.push(`LSTM wall time, all seeds: ${elapsed.toFixed(1)} s`);
process.stdout.write(`${out.join('\n')}\n`);
if (args.json) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(
    args.json,
    JSON.stringify(
      {
        cfg,
        origins,
        reference: reference.models,
        climatology,
        ar1,
        runs: runs.map(({ forecasts, ...r }) => r),
        ensemble,
        rss: { rssAtStart, rssAfterLoad, rssPeak },
        elapsed,
      },
      null,
      1,
    ),
  );
}
