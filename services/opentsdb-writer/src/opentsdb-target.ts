import type { Logger } from '@gridstream/runtime';
import { type PointRefusal, type SinkTarget, SinkWriteError } from '@gridstream/sink';
import type { OpenTsdbWriterConfig } from './config.js';
import { DatapointMapper, type OpenTsdbDatapoint, type TagKey } from './datapoints.js';
import { parsePutAnswer, placeRefusals, serverMessage } from './put-answer.js';

export interface OpenTsdbClientOptions {
  /** Base URL without a trailing slash. */
  url: string;
  timeoutMs: number;
  username?: string | undefined;
  password?: string | undefined;
  /** `&sync&sync_timeout=`: OpenTSDB answers once storage has the datapoints. */
  sync: boolean;
}

export function clientOptionsFromConfig(config: OpenTsdbWriterConfig): OpenTsdbClientOptions {
  return {
    url: config.OPENTSDB_URL.replace(/\/+$/, ''),
    timeoutMs: config.OPENTSDB_TIMEOUT_MS,
    username: config.OPENTSDB_USERNAME,
    password: config.OPENTSDB_PASSWORD,
    sync: config.OPENTSDB_SYNC,
  };
}

/**
 * OpenTSDB's HTTP put as a sink: a datapoint is (metric, tags, timestamp in ms, value), so a redelivered
 * record writes the same datapoints again — stored once by OpenTSDB (a cell per series and time) and by
 * VictoriaMetrics with `-dedup.minScrapeInterval=1ms` (docs/opentsdb-writer.md, "Idempotency").
 */
export function createOpenTsdbTarget(
  config: OpenTsdbWriterConfig,
  logger: Logger,
): SinkTarget<OpenTsdbDatapoint> {
  const mapper = new DatapointMapper({
    metricTemplate: config.OPENTSDB_METRIC_TEMPLATE,
    tags: config.OPENTSDB_TAGS as TagKey[],
    invalidChars: config.OPENTSDB_INVALID_CHARS,
    allowedSpecialChars: config.OPENTSDB_ALLOWED_SPECIAL_CHARS,
    qualityPoints: config.OPENTSDB_QUALITY_POINTS,
    alarmMetric: config.OPENTSDB_ALARM_METRIC,
  });
  const put = openTsdbPut(clientOptionsFromConfig(config), logger);
  return {
    name: 'opentsdb',
    stage: 'opentsdb-writer',
    recordPoints: (record) => mapper.recordPoints(record),
    alarmPoints: (event) => mapper.alarmPoints(event),
    // Operators' actions (who, comment) are text: OpenTSDB has nowhere to keep them.
    write: put,
    async close() {},
  };
}

/**
 * The datapoints as the JSON array `/api/put` takes. Built by hand, not with JSON.stringify: an integral
 * value of 2^53 or more is written in exponent form, because its plain digits look like an integer to
 * OpenTSDB, which refuses one beyond a Java long (a double such as 1e19 prints as 10000000000000000000).
 */
export function datapointsJson(points: readonly OpenTsdbDatapoint[]): string {
  let out = '[';
  let lastTags: Record<string, string> | undefined;
  let lastTagsJson = '';
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    // The datapoints of one record share one tags object: serialise it once.
    if (p.tags !== lastTags) {
      lastTags = p.tags;
      lastTagsJson = JSON.stringify(p.tags);
    }
    if (i > 0) out += ',';
    out += `{"metric":${JSON.stringify(p.metric)},"timestamp":${p.timestamp},"value":${formatValue(p.value)},"tags":${lastTagsJson}}`;
  }
  return `${out}]`;
}

export function formatValue(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`${v} is not a finite number`);
  return Number.isInteger(v) && Math.abs(v) >= 2 ** 53 ? v.toExponential() : String(v);
}

/**
 * POST /api/put?details: 204 (VictoriaMetrics, OpenTSDB without failures) or a details answer (OpenTSDB).
 * - Datapoints the answer names as refused for their own sake (a name, a value, an unknown metric) come
 *   back as refusals by index; the rest of the batch is stored.
 * - Refusals for the server's sake (storage failed, throttled, timed out) and every other failure — no
 *   answer, 5xx, 401/403, 404 (a wrong URL, a read-only TSD), 408, 429 — throw a retriable error: the
 *   seam retries with backoff and pauses intake.
 * - A 400/413 that names no datapoint (unparseable body, request too large; VictoriaMetrics' only 400)
 *   throws a non-retriable error: the seam halves the batch until the refused datapoint is alone.
 */
export function openTsdbPut(
  options: OpenTsdbClientOptions,
  logger?: Logger,
): (points: OpenTsdbDatapoint[]) => Promise<PointRefusal[] | undefined> {
  const url = `${options.url}/api/put?details${options.sync ? `&sync&sync_timeout=${options.timeoutMs}` : ''}`;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.username !== undefined) {
    const basic = Buffer.from(`${options.username}:${options.password ?? ''}`, 'utf8').toString('base64');
    headers.authorization = `Basic ${basic}`;
  }
  let chunkedWarned = false;
  return async (points) => {
    if (points.length === 0) return;
    const body = datapointsJson(points);
    let status: number;
    let text: string;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason =
        (error as Error).name === 'TimeoutError'
          ? `no answer within ${options.timeoutMs} ms`
          : (cause?.code ?? cause?.message ?? (error as Error).message);
      throw new SinkWriteError(`cannot write to ${options.url}: ${reason}`, true, cause?.code);
    }
    if (status === 204) return;
    const answer = parsePutAnswer(text);
    if (status >= 200 && status < 300) {
      if (!answer || answer.failed === 0) return;
      return refusalsOrThrow(points, answer, status);
    }
    if (status === 400 || status === 413) {
      if (answer && answer.failed > 0) return refusalsOrThrow(points, answer, status);
      const message = serverMessage(text, status);
      if (!chunkedWarned && /chunked request not supported/i.test(message)) {
        chunkedWarned = true;
        logger?.warn(
          { bytes: body.length, points: points.length },
          'OpenTSDB refuses request bodies over 8 KiB: set tsd.http.request.enable_chunked=true and tsd.http.request.max_chunk, or lower WRITER_BATCH_SIZE (batches are split until they fit meanwhile)',
        );
      }
      throw new SinkWriteError(message, false, status);
    }
    throw new SinkWriteError(serverMessage(text, status), true, status);
  };
}

function refusalsOrThrow(
  points: readonly OpenTsdbDatapoint[],
  answer: NonNullable<ReturnType<typeof parsePutAnswer>>,
  status: number,
): PointRefusal[] {
  const placed = placeRefusals(points, answer);
  if (placed.kind === 'refused') return placed.refusals;
  throw new SinkWriteError(placed.message, placed.kind === 'transient', status);
}
