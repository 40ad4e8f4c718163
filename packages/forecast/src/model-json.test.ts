import { describe, expect, it } from 'vitest';
import { holtWinters } from './holt-winters.js';
import { MODEL_FORMAT, ModelFormatError } from './model.js';
import { fromJSON } from './model-json.js';
import { seasonalNaive } from './seasonal-naive.js';
import { dailyWeekly, synthetic } from './synthetic.fixture.js';

const series = synthetic(24 * 7 * 4, (t) => 40 + 0.01 * t + dailyWeekly(t), 1, 11);

describe('model JSON', () => {
  for (const model of [
    holtWinters({ periods: [24, 168] }),
    holtWinters({ periods: [24], trend: 'none' }),
    seasonalNaive(24),
  ]) {
    it(`${model.label}: save → JSON text → load gives identical forecasts, and identical updates`, () => {
      const fitted = model.fit(series);
      const text = JSON.stringify(fitted);
      const loaded = fromJSON(text);
      expect(loaded.label).toBe(model.label);
      expect(loaded.forecast(200, { level: 0.8 })).toEqual(fitted.forecast(200, { level: 0.8 }));
      // Round trip of the document itself, and of a model moved on after loading.
      expect(loaded.toJSON()).toEqual(fitted.toJSON());
      const next = [41, Number.NaN, 39.5];
      expect(loaded.update(next).forecast(30)).toEqual(fitted.update(next).forecast(30));
    });
  }

  it('names its format and version', () => {
    const json = seasonalNaive(2)
      .fit({ start: 0, step: 1000, values: [1, 2, 3] })
      .toJSON();
    expect(json).toEqual({
      format: MODEL_FORMAT,
      version: 1,
      kind: 'seasonal-naive',
      end: 2000,
      step: 1000,
      sigma2: 4,
      observations: 3,
      period: 2,
      // The next step (t = 3) is at the position of t = 1 (value 2), the one after at t = 2 (value 3).
      upcoming: [2, 3],
    });
  });

  it('refuses a model of another version with a clear error', () => {
    const json = {
      ...holtWinters({ periods: [24] })
        .fit(series)
        .toJSON(),
      version: 2,
    };
    expect(() => fromJSON(json)).toThrow(ModelFormatError);
    expect(() => fromJSON(JSON.stringify(json))).toThrow(
      'forecast model version 2 is not supported (this build reads version 1); refit the model',
    );
  });

  it('refuses other documents: not JSON, another format, an unknown kind, a malformed state', () => {
    expect(() => fromJSON('{')).toThrow(/not valid JSON/);
    expect(() => fromJSON({ format: 'other', version: 1 })).toThrow(/not a forecast model/);
    expect(() => fromJSON({ format: MODEL_FORMAT, version: 1, kind: 'lstm' })).toThrow(
      /unknown forecast model kind "lstm"/,
    );
    const json = holtWinters({ periods: [24] })
      .fit(series)
      .toJSON();
    if (json.kind !== 'holt-winters') throw new Error('unreachable');
    const shortSeason = { ...json, state: { ...json.state, seasons: [json.state.seasons[0]!.slice(1)] } };
    expect(() => fromJSON(shortSeason)).toThrow(/gamma and seasons must match periods/);
    const nanLevel = JSON.parse(JSON.stringify({ ...json, state: { ...json.state, level: Number.NaN } }));
    expect(() => fromJSON(nanLevel)).toThrow(/state\.level/);
  });
});
