import type { PointRefusal } from '@gridstream/sink';
import type { OpenTsdbDatapoint } from './datapoints.js';

/**
 * OpenTSDB's answer to `/api/put?details` (2.x): how many datapoints it stored and, for each one it did not,
 * the datapoint as it read it and why. 400 when any datapoint failed validation, 200 otherwise — also
 * when some failed in storage (`sync`), so a 200 is read too.
 */
export interface PutAnswer {
  success: number;
  failed: number;
  errors: { datapoint?: unknown; error?: unknown }[];
}

/** The body as a details answer, or undefined when it is something else (VictoriaMetrics' text, an HTML page). */
export function parsePutAnswer(body: string): PutAnswer | undefined {
  if (!body.startsWith('{')) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null) return undefined;
  const { success, failed, errors } = json as Record<string, unknown>;
  if (typeof failed !== 'number') return undefined;
  return {
    success: typeof success === 'number' ? success : 0,
    failed,
    errors: Array.isArray(errors) ? errors.filter((e) => typeof e === 'object' && e !== null) : [],
  };
}

/**
 * Refusals that are the server's condition, not the datapoint's: OpenTSDB reports a failed or throttled
 * storage write per datapoint too. Those are retried (the whole batch: writes are idempotent), never
 * dead-lettered.
 */
const TRANSIENT =
  /^(storage exception|please throttle|timeout exception|write timedout|unexpected exception)/i;

export function isTransientRefusal(message: string): boolean {
  return TRANSIENT.test(message.trim());
}

export type PlacedAnswer =
  /** Every failure placed on a datapoint of the batch, and all are the datapoints' own fault. */
  | { kind: 'refused'; refusals: PointRefusal[] }
  /** At least one failure is the server's condition: retry the batch. */
  | { kind: 'transient'; message: string }
  /** The answer cannot be tied to datapoints (no details, an unknown datapoint): the seam halves instead. */
  | { kind: 'unplaced'; message: string };

/**
 * Ties each error of a details answer to the index of the datapoint it is about. The server echoes the
 * datapoint as it read it (metric, timestamp, tags, and the value as text); datapoints are matched on
 * metric, timestamp and tags, the value breaking ties, and each index is used once, so two equal datapoints
 * in one batch get one error each. An error that matches nothing, or fewer errors than `failed`, leaves the
 * answer unplaced: guessing would dead-letter a good point and write a refused one as done.
 */
export function placeRefusals(points: readonly OpenTsdbDatapoint[], answer: PutAnswer): PlacedAnswer {
  const messages = answer.errors.map((e) =>
    typeof e.error === 'string' ? e.error : JSON.stringify(e.error ?? null),
  );
  const transient = messages.find(isTransientRefusal);
  if (transient !== undefined)
    return {
      kind: 'transient',
      message: `${answer.failed} of ${points.length} datapoints not stored: ${transient}`,
    };
  if (answer.errors.length === 0 || answer.errors.length < answer.failed)
    return {
      kind: 'unplaced',
      message: `${answer.failed} of ${points.length} datapoints refused${messages[0] ? `: ${messages[0]}` : ''} (the answer does not say which)`,
    };

  const byKey = new Map<string, number[]>();
  points.forEach((p, index) => {
    const key = datapointKey(p.metric, p.timestamp, p.tags);
    const list = byKey.get(key);
    if (list) list.push(index);
    else byKey.set(key, [index]);
  });
  const used = new Set<number>();
  const refusals: PointRefusal[] = [];
  for (let i = 0; i < answer.errors.length; i++) {
    const dp = answer.errors[i]!.datapoint as Record<string, unknown> | undefined;
    const index = dp && typeof dp === 'object' ? findIndex(points, byKey, used, dp) : undefined;
    if (index === undefined)
      return {
        kind: 'unplaced',
        message: `the server refused a datapoint that is not in the batch (${messages[i]}): ${JSON.stringify(dp ?? null).slice(0, 300)}`,
      };
    used.add(index);
    const p = points[index]!;
    refusals.push({
      index,
      message: `${messages[i]} (datapoint ${p.metric} ${formatTags(p.tags)} at ${p.timestamp})`,
    });
  }
  return { kind: 'refused', refusals };
}

function findIndex(
  points: readonly OpenTsdbDatapoint[],
  byKey: Map<string, number[]>,
  used: Set<number>,
  dp: Record<string, unknown>,
): number | undefined {
  const timestamp = typeof dp.timestamp === 'number' ? dp.timestamp : Number(dp.timestamp);
  const tags = typeof dp.tags === 'object' && dp.tags !== null ? (dp.tags as Record<string, unknown>) : {};
  const candidates = byKey.get(datapointKey(String(dp.metric ?? ''), timestamp, tags));
  if (!candidates) return undefined;
  const value = Number(dp.value);
  let first: number | undefined;
  for (const index of candidates) {
    if (used.has(index)) continue;
    if (points[index]!.value === value) return index;
    first ??= index;
  }
  return first;
}

function datapointKey(metric: string, timestamp: number, tags: Record<string, unknown>): string {
  const pairs = Object.entries(tags)
    .map(([k, v]) => `${k}=${String(v)}`)
    .sort();
  return `${metric}\u0000${timestamp}\u0000${pairs.join('\u0000')}`;
}

function formatTags(tags: Record<string, string>): string {
  return Object.entries(tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/**
 * A whole-request error's text for the dead letter or the log: OpenTSDB's `{"error":{"message","details"}}`,
 * else the body as it is (VictoriaMetrics answers plain text), first 1,000 characters.
 */
export function serverMessage(body: string, status: number): string {
  const text = body.trim();
  if (text.startsWith('{')) {
    try {
      const json = JSON.parse(text) as { error?: { message?: unknown; details?: unknown } };
      if (json.error && typeof json.error.message === 'string') {
        const details =
          typeof json.error.details === 'string' && json.error.details ? `: ${json.error.details}` : '';
        return `${json.error.message}${details}`.slice(0, 1_000);
      }
    } catch {
      // not JSON after all: the text below
    }
  }
  return (text || `HTTP ${status} without a body`).slice(0, 1_000);
}
