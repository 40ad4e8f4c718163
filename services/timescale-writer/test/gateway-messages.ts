import type { OutMessage } from '@gridstream/kafka';
import type { ParsedRecord } from '@gridstream/schema';
import { parsedV2Message } from '@gridstream/testkit';
import { SAMPLE_RECORDS } from '../../../packages/influx/src/sample-records.fixture.js';

/**
 * Parsed messages as the parser writes them (format v2): message k holds the 17 device readings of the
 * reference gateway message, at site `SITES[k % 3]` and one second later every 3 messages, so no two
 * messages share a row and message k's rows are known exactly.
 */
export const SITES = ['site-a', 'site-b', 'site-c'] as const;
const T0 = Date.parse('2024-03-01T00:00:00.000Z');

export function recordsOf(k: number): ParsedRecord[] {
  const site = SITES[k % SITES.length]!;
  const ts = new Date(T0 + Math.floor(k / SITES.length) * 1_000).toISOString();
  const lineage = { topic: 'telemetry.raw', partition: 0, offset: String(k) };
  return SAMPLE_RECORDS.map((r) => ({ ...r, site, ts, lineage }));
}

export function gatewayMessage(k: number): OutMessage {
  return parsedV2Message(recordsOf(k), recordsOf(k)[0]!.lineage);
}

/** Rows of one gateway message: every reading and every flag of its 17 records. */
export const ROWS_PER_MESSAGE = SAMPLE_RECORDS.reduce(
  (n, r) => n + Object.keys(r.fields).length + Object.keys(r.flags).length,
  0,
);

export const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
