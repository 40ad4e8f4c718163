import { createMetricsRegistry } from '@gridstream/runtime';
import { sinkMetrics } from '@gridstream/sink';
import { sourceMetrics } from '@gridstream/source';
import { describe, expect, it } from 'vitest';
import { metricNames, parsePrometheusText, sumMetric } from './prometheus-text.js';
import { counterRate, counterTotals, Ring, rateSpecFor, SINK_RATES, SOURCE_RATES } from './rates.js';

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

  it('takes the stages’ own counters for in and out', () => {
    const totals = counterTotals(parsePrometheusText(SCRAPE), rateSpecFor('parser', metricNames(SCRAPE)));
    expect(totals).toEqual({ in: 123, out: 840, deadLetters: 3 });
    expect(rateSpecFor('parser', metricNames(SCRAPE)).kind).toBe('stage');
    expect(rateSpecFor('some-new-service').in).toEqual(['gridstream_consumer_messages_total']);
    expect(rateSpecFor('some-new-service').kind).toBe('stage');
  });

  it('knows any source and any sink by the seams’ metrics, not by its name — before it counted anything', async () => {
    // The /metrics of services nobody named: the seams' own registries, as the services expose them.
    const collector = createMetricsRegistry('lora-collector');
    const source = sourceMetrics(collector);
    const writer = createMetricsRegistry('questdb-writer');
    const sink = sinkMetrics(writer);
    const idle = { collector: await collector.metrics(), writer: await writer.metrics() };
    expect(rateSpecFor('lora-collector', metricNames(idle.collector))).toBe(SOURCE_RATES);
    expect(rateSpecFor('questdb-writer', metricNames(idle.writer))).toBe(SINK_RATES);
    // Not by name: a "-writer" without the sink seam is no sink, an "influx-writer" on it is one.
    expect(rateSpecFor('archive-writer', metricNames(SCRAPE)).kind).toBe('stage');
    expect(rateSpecFor('influx-writer', metricNames(idle.writer)).kind).toBe('sink');
    expect(rateSpecFor('influx-writer').kind).toBe('stage'); // no scrape yet: nothing to tell by

    source.messages.inc({ source: 'lora', endpoint: 'gw-1' }, 7);
    source.messages.inc({ source: 'lora', endpoint: 'gw-2' }, 5);
    source.samples.inc({ source: 'lora', endpoint: 'gw-1' }, 70);
    sink.points.inc({ sink: 'questdb', measurement: 'battery' }, 40);
    sink.points.inc({ sink: 'questdb', measurement: 'pv' }, 2);
    const collectorText = await collector.metrics();
    const writerText = await writer.metrics();
    expect(
      counterTotals(parsePrometheusText(collectorText), rateSpecFor('x', metricNames(collectorText))),
    ).toEqual({ out: 12 });
    expect(counterTotals(parsePrometheusText(writerText), rateSpecFor('y', metricNames(writerText)))).toEqual(
      { out: 42 },
    );
  });

  it('reads declared metrics from # TYPE lines as well as from samples', () => {
    const text = `# HELP gridstream_sink_points_total Points
# TYPE gridstream_sink_points_total counter
# TYPE gridstream_never_sampled gauge
gridstream_parser_messages_total{outcome="ok"} 1
`;
    expect([...metricNames(text)].sort()).toEqual([
      'gridstream_never_sampled',
      'gridstream_parser_messages_total',
      'gridstream_sink_points_total',
    ]);
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
