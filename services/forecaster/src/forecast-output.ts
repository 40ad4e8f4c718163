import type { ForecastPoint } from '@gridstream/forecast';
import { escapeTag, formatFloat, timestampMs } from '@gridstream/influx';
import { type ForecastMessage, forecastKey } from '@gridstream/schema';
import type { SeriesConfig } from './forecast-series-config.js';

/** The measurement forecasts go to: never the readings' own, so a forecast is never taken for a reading. */
export const FORECAST_MEASUREMENT = 'forecast';

/** A forecast as the forecaster publishes it: clipped to the series' physical bounds. */
export function forecastMessage(
  s: SeriesConfig,
  model: string,
  points: readonly ForecastPoint[],
  issuedAt: number,
  level: number,
): ForecastMessage {
  const clip = (v: number) =>
    Math.min(s.max ?? Number.POSITIVE_INFINITY, Math.max(s.min ?? Number.NEGATIVE_INFINITY, v));
  return {
    v: 1,
    predicted: true,
    site: s.site,
    equipment: s.equipment,
    device: s.device,
    ...(s.rack === undefined ? {} : { rack: s.rack }),
    field: s.field,
    model,
    issuedAt: new Date(issuedAt).toISOString(),
    stepMs: s.stepMs,
    level,
    points: points.map((p) => ({
      ts: new Date(p.ts).toISOString(),
      mean: clip(p.mean),
      lower: clip(p.lower),
      upper: clip(p.upper),
    })),
  };
}

/**
 * One line per forecast point (precision ms):
 *
 *   forecast,device=<d>,equipment=<e>,field=<f>,model=<m>[,rack=<r>],site=<s>
 *     mean=<float>,lower=<float>,upper=<float>,issued_at_ms=<int>i <ts ms>
 *
 * The point is (tags, forecast time): each new forecast overwrites what the previous one said about the
 * same time, so Grafana shows the latest forecast, and a redelivered write changes nothing. The model is a
 * tag: two models of one series are two forecasts side by side.
 */
export function forecastLines(m: ForecastMessage): string[] {
  let series = `forecast,device=${escapeTag(m.device, 'device')},equipment=${escapeTag(m.equipment, 'equipment')}`;
  series += `,field=${escapeTag(m.field, 'field')},model=${escapeTag(m.model, 'model')}`;
  if (m.rack !== undefined) series += `,rack=${escapeTag(m.rack, 'rack')}`;
  series += `,site=${escapeTag(m.site, 'site')}`;
  const issued = timestampMs(m.issuedAt);
  return m.points.map(
    (p) =>
      `${series} mean=${formatFloat(p.mean, 'mean')},lower=${formatFloat(p.lower, 'lower')},upper=${formatFloat(p.upper, 'upper')},issued_at_ms=${issued}i ${timestampMs(p.ts)}`,
  );
}

export { forecastKey };
