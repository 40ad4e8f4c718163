import { describe, expect, it } from 'vitest';
import { parsePrometheusText, sumMetric } from './prometheus-text.js';
import { counterRate, counterTotals, Ring, rateSpecFor } from './rates.js';

const SCRAPE = `# HELP gridstream_parser_messages_total Raw messages parsed
# TYPE gridstream_parser_messages_total counter
gridstream_parser_messages_total{outcome="ok",service="parser"} 120
gridstream_parser_messages_total{outcome="rejected",service="parser"} 3
gridstream_parser_records_total{equipment="battery",service="parser"} 600
gridstream_parser_records_total{equipment="pv",service="parser"} 240
gridstream_dead_letters_total{stage="parser",reason="not_json",service="parser"} 3
weird line without value
gridstream_label_escape{x="a \\"quoted\\" \\\\ b"} 1
gridstream_process_cpu_seconds_total 1.5e-3
`;

describe('parsePrometheusText', () => {
  it('reads samples and labels, skipping what it cannot read', () => {
    const samples = parsePrometheusText(SCRAPE);
    expect(sumMetric(samples, 'gridstream_parser_messages_total')).toBe(123);
    expect(sumMetric(samples, 'gridstream_parser_messages_total', { outcome: 'ok' })).toBe(120);
    expect(sumMetric(samples, 'missing_metric')).toBeUndefined();
    expect(samples.find((s) => s.name === 'gridstream_label_escape')?.labels.x).toBe('a "quoted" \\ b');
    expect(sumMetric(samples, 'gridstream_process_cpu_seconds_total')).toBe(0.0015);
  });

  it('takes the services’ own counters for in and out', () => {
    const totals = counterTotals(parsePrometheusText(SCRAPE), rateSpecFor('parser'));
    expect(totals).toEqual({ in: 123, out: 840, deadLetters: 3 });
    // Every sink reports the standard gridstream_sink_* counters.
    for (const sink of ['influx-writer', 'timescale-writer', 'opentsdb-writer'])
      expect(rateSpecFor(sink)).toEqual({
        in: ['gridstream_consumer_messages_total'],
        out: ['gridstream_sink_points_total'],
        outUnit: 'points/s',
      });
    expect(rateSpecFor('some-new-service').in).toEqual(['gridstream_consumer_messages_total']);
  });
});

describe('counterRate', () => {
  it('is the increase per second between two readings', () => {
    expect(counterRate({ value: 100, atMs: 0 }, { value: 150, atMs: 5_000 })).toBe(10);
    expect(counterRate({ value: 100, atMs: 0 }, { value: 100, atMs: 5_000 })).toBe(0);
  });

  it('treats a counter that went down as a restart, never a negative rate', () => {
    expect(counterRate({ value: 1_000, atMs: 0 }, { value: 20, atMs: 2_000 })).toBe(10);
  });

  it('is unknown without two readings or without elapsed time', () => {
    expect(counterRate(undefined, { value: 1, atMs: 1 })).toBeNull();
    expect(counterRate({ value: 1, atMs: 1 }, undefined)).toBeNull();
    expect(counterRate({ value: 1, atMs: 5 }, { value: 2, atMs: 5 })).toBeNull();
  });
});

describe('Ring', () => {
  it('keeps the newest `capacity` items, oldest first', () => {
    const ring = new Ring<number>(3);
    expect(ring.toArray()).toEqual([]);
    for (const n of [1, 2]) ring.push(n);
    expect(ring.toArray()).toEqual([1, 2]);
    for (const n of [3, 4, 5]) ring.push(n);
    expect(ring.toArray()).toEqual([3, 4, 5]);
    expect(ring.length).toBe(3);
  });
});
