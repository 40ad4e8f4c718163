import type { InfluxConfig } from './influx-config.js';
import { authHeaders, baseUrl, quoteIdentifier } from './influx-http.js';
import { influxErrorText } from './influx-write-error.js';

/** One series of an InfluxQL answer; `time` (when selected) is epoch milliseconds. */
export interface InfluxSeries {
  name: string;
  tags: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

export class InfluxQueryError extends Error {
  override readonly name = 'InfluxQueryError';
  readonly status?: number;
  readonly influxMessage: string;
  constructor(influxMessage: string, status?: number, options?: { cause?: unknown }) {
    super(
      `InfluxQL query failed${status === undefined ? '' : ` (HTTP ${status})`}: ${influxMessage}`,
      options,
    );
    this.status = status;
    this.influxMessage = influxMessage;
  }
}

interface QueryResponse {
  results?: { statement_id?: number; error?: string; series?: Partial<InfluxSeries>[] }[];
  error?: string;
}

async function runQuery(cfg: InfluxConfig, method: 'GET' | 'POST', params: URLSearchParams) {
  const url = `${baseUrl(cfg)}/query`;
  let response: Response;
  let text: string;
  try {
    response =
      method === 'GET'
        ? await fetch(`${url}?${params}`, {
            headers: authHeaders(cfg),
            signal: AbortSignal.timeout(cfg.timeoutMs),
          })
        : await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded', ...authHeaders(cfg) },
            body: params,
            signal: AbortSignal.timeout(cfg.timeoutMs),
          });
    text = await response.text();
  } catch (error) {
    throw new InfluxQueryError((error as Error).message, undefined, { cause: error });
  }
  if (!response.ok) throw new InfluxQueryError(influxErrorText(text) || response.statusText, response.status);
  let body: QueryResponse;
  try {
    body = JSON.parse(text) as QueryResponse;
  } catch {
    throw new InfluxQueryError(`not a JSON answer: ${text.slice(0, 200)}`, response.status);
  }
  if (body.error) throw new InfluxQueryError(body.error, response.status);
  const series: InfluxSeries[] = [];
  // A statement that fails still answers 200, with the reason inside its result.
  for (const result of body.results ?? []) {
    if (result.error) throw new InfluxQueryError(result.error, response.status);
    for (const s of result.series ?? []) {
      series.push({
        name: s.name ?? '',
        tags: s.tags ?? {},
        columns: s.columns ?? [],
        values: s.values ?? [],
      });
    }
  }
  return series;
}

/**
 * Runs read-only InfluxQL (SELECT, SHOW) with GET `/query?db=&q=&epoch=ms` and returns every series of
 * every statement. Throws InfluxQueryError for an HTTP error or a statement error.
 */
export function queryInflux(cfg: InfluxConfig, influxQL: string, db = cfg.database): Promise<InfluxSeries[]> {
  return runQuery(cfg, 'GET', new URLSearchParams({ db, q: influxQL, epoch: 'ms' }));
}

/** Statements that change things (CREATE/DROP DATABASE, retention policies): 1.x refuses them over GET. */
export function executeInflux(cfg: InfluxConfig, influxQL: string, db?: string): Promise<InfluxSeries[]> {
  const params = new URLSearchParams({ q: influxQL, epoch: 'ms' });
  if (db !== undefined) params.set('db', db);
  return runQuery(cfg, 'POST', params);
}

/**
 * Number of points in a database (or one measurement). InfluxQL has no "count points", only a count per
 * field, so this takes, per series, the largest field count and sums over series: exact as long as each
 * device sends at least one field in every reading, which is how gridstream records are written.
 */
export async function countPoints(cfg: InfluxConfig, db: string, measurement?: string): Promise<number> {
  const from = measurement === undefined ? '/.*/' : quoteIdentifier(measurement);
  const series = await queryInflux(cfg, `SELECT COUNT(*) FROM ${from} GROUP BY *`, db);
  let total = 0;
  for (const s of series) {
    for (const row of s.values) {
      let max = 0;
      for (let i = 1; i < row.length; i++) {
        const v = row[i];
        if (typeof v === 'number' && v > max) max = v;
      }
      total += max;
    }
  }
  return total;
}
