import { compileQualityConfig, validateQualityConfig } from '@gridstream/quality';
import type { ForecastMessage } from '@gridstream/schema';
import { describe, expect, it } from 'vitest';
import { forecastLines, forecastMessage } from './forecast-output.js';
import { parseForecastConfig } from './forecast-series-config.js';
import { PredictedAlarms, rulesFor } from './predicted-alarms.js';

const [series] = parseForecastConfig(
  `series:
  - { site: sionyu, equipment: battery, device: bank, field: soc, step: 15m, history: 2d, horizon: 1h, every: 15m,
      min: 0, max: 100, band: { rule: soc_low, low: 10, hysteresis: 2 } }
`,
  'test.yaml',
);
const s = series!;
const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const STEP = 15 * 60_000;

/** A forecast made at `issued` whose four predicted means are `means`. */
const forecast = (issued: number, means: number[]): ForecastMessage =>
  forecastMessage(
    s,
    'hw(96)',
    means.map((m, i) => ({ ts: issued + (i + 1) * STEP, mean: m, lower: m - 5, upper: m + 5, sd: 2.5 })),
    issued,
    0.95,
  );

describe('forecast output', () => {
  it('clips to the physical bounds and writes one line per point, tagged with the model', () => {
    const m = forecast(T0, [102, 50, -3, 7.5]);
    expect(m.points.map((p) => [p.mean, p.lower, p.upper])).toEqual([
      [100, 97, 100],
      [50, 45, 55],
      [0, 0, 2],
      [7.5, 2.5, 12.5],
    ]);
    expect(forecastLines(m)[3]).toBe(
      `forecast,device=bank,equipment=battery,field=soc,model=hw(96),site=sionyu mean=7.5,lower=2.5,upper=12.5,issued_at_ms=${T0}i ${T0 + 4 * STEP}`,
    );
  });
});

describe('predicted alarms', () => {
  it('raises one episode for one predicted excursion, holds it through the deadband, and clears it', () => {
    const { rules } = rulesFor(s, undefined);
    expect(rules.map((r) => [r.name, r.direction, r.warning])).toEqual([['predicted_soc_low', 'below', 10]]);
    const alarms = new PredictedAlarms();
    const run = (i: number, means: number[]) => {
      const { events, commit } = alarms.evaluate(rules, forecast(T0 + i * STEP, means));
      commit();
      return events;
    };
    expect(run(0, [30, 25, 20, 15])).toEqual([]);
    const raised = run(1, [25, 18, 12, 9.5]);
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({
      rule: 'predicted_soc_low',
      state: 'raised',
      level: 'warning',
      value: 9.5,
      threshold: 10,
      raisedAt: new Date(T0 + STEP).toISOString(),
      message: `soc predicted 9.5 < 10 (warning) at ${new Date(T0 + 5 * STEP).toISOString()}, in 60 min (hw(96))`,
    });
    // Still below, then back above 10 but inside the 2-unit deadband: the same episode, no new events.
    expect(run(2, [12, 9, 8, 8])).toEqual([]);
    expect(run(3, [11, 11, 11.5, 11.9])).toEqual([]);
    const cleared = run(4, [13, 14, 15, 16]);
    expect(cleared.map((e) => [e.state, e.id, e.threshold])).toEqual([['cleared', raised[0]!.id, 12]]);
    expect(run(5, [13, 14, 15, 16])).toEqual([]);
  });

  it('uses the alarm rules of QUALITY_CONFIG on this very field, with their levels, and carries episodes over a restart', () => {
    const quality = compileQualityConfig(
      validateQualityConfig({
        alarms: [
          {
            name: 'soc_low',
            equipment: 'battery',
            value: 'soc',
            direction: 'below',
            warning: 15,
            fault: 5,
            hysteresis: 1,
          },
          { name: 'soc_gap', equipment: 'battery', value: 'soc - soh', direction: 'above', warning: 1 },
          { name: 'pv_low', equipment: 'pv', value: 'soc', direction: 'below', warning: 1 },
        ],
      }),
    );
    const { rules } = rulesFor({ ...s, band: undefined }, quality);
    expect(rules.map((r) => r.name)).toEqual(['predicted_soc_low']);
    const first = new PredictedAlarms();
    const a = first.evaluate(rules, forecast(T0, [20, 14, 10, 8]));
    a.commit();
    const b = first.evaluate(rules, forecast(T0 + STEP, [10, 6, 4, 3]));
    b.commit();
    expect([...a.events, ...b.events].map((e) => [e.state, e.level])).toEqual([
      ['raised', 'warning'],
      ['escalated', 'fault'],
    ]);
    // Not committed (never published): the next forecast says it again.
    const c = first.evaluate(rules, forecast(T0 + 2 * STEP, [20, 20, 20, 20]));
    const again = first.evaluate(rules, forecast(T0 + 3 * STEP, [20, 20, 20, 20])).events;
    expect(again.map((e) => [e.state, e.id])).toEqual(c.events.map((e) => [e.state, e.id]));
    expect(c.events.map((e) => e.state)).toEqual(['cleared']);
    // A new process restores the open episode from the alarms topic: no second `raised`.
    const restarted = new PredictedAlarms();
    expect(restarted.restore([...a.events, ...b.events].map((e) => Buffer.from(JSON.stringify(e))))).toBe(1);
    expect(restarted.evaluate(rules, forecast(T0 + 2 * STEP, [4, 4, 4, 4])).events).toEqual([]);
    expect(restarted.evaluate(rules, forecast(T0 + 2 * STEP, [30, 30, 30, 30])).events[0]).toMatchObject({
      state: 'cleared',
      id: a.events[0]!.id,
    });
  });
});

describe('forecast configuration', () => {
  it('refuses durations that are not whole steps, too little history, and a series given twice, naming each', () => {
    expect(() =>
      parseForecastConfig(
        `series:
  - { site: a, equipment: battery, device: b, field: soc, step: 15m, history: 1d, horizon: 10m, every: 15m, seasons: [1d] }
`,
        'f.yaml',
      ),
    ).toThrow(
      /series\.0\.horizon: 10m is not a whole number of steps of 15m[\s\S]*series\.0\.history: 1d holds less than two/,
    );
    const one =
      '  - { site: a, equipment: battery, device: b, field: soc, step: 1h, history: 3d, horizon: 6h, every: 1h }\n';
    expect(() => parseForecastConfig(`series:\n${one}${one}`, 'f.yaml')).toThrow(
      'f.yaml: series.1: a/battery/b//soc is configured twice',
    );
    expect(parseForecastConfig(`series:\n${one}`, 'f.yaml')[0]).toMatchObject({
      stepMs: 3_600_000,
      historySteps: 72,
      horizonSteps: 6,
      periods: [24],
      model: 'hw',
    });
  });
});
