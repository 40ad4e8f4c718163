import { describe, expect, it } from 'vitest';
import type { OpenTsdbDatapoint } from './datapoints.js';
import { isTransientRefusal, parsePutAnswer, placeRefusals, serverMessage } from './put-answer.js';

const TS = 1686310446000;
const dp = (
  metric: string,
  value: number,
  tags: Record<string, string> = { site: 's', device: 'd' },
  timestamp = TS,
) => ({
  metric,
  timestamp,
  value,
  tags,
});
/** The datapoint as OpenTSDB echoes it in `errors[].datapoint`: the value as text, tags in its own order. */
const echo = (p: OpenTsdbDatapoint) => ({
  metric: p.metric,
  timestamp: p.timestamp,
  value: String(p.value),
  tags: Object.fromEntries(Object.entries(p.tags).reverse()),
});

describe('parsePutAnswer', () => {
  it('reads a details answer, and nothing else', () => {
    expect(parsePutAnswer('{"success":2,"failed":1,"errors":[{"datapoint":{},"error":"x"}]}')).toEqual({
      success: 2,
      failed: 1,
      errors: [{ datapoint: {}, error: 'x' }],
    });
    expect(parsePutAnswer('{"success":3,"failed":0}')).toEqual({ success: 3, failed: 0, errors: [] });
    expect(parsePutAnswer('cannot decode opentsdb data: cannot parse JSON')).toBeUndefined();
    expect(
      parsePutAnswer('{"error":{"code":400,"message":"No datapoints found in content"}}'),
    ).toBeUndefined();
    expect(parsePutAnswer('{"failed":')).toBeUndefined();
  });
});

describe('placeRefusals', () => {
  const points = [dp('a', 1), dp('b', 2), dp('a', 1, { site: 's', device: 'e' }), dp('c', 3)];

  it('ties each error to its datapoint by metric, timestamp and tags', () => {
    const answer = {
      success: 2,
      failed: 2,
      errors: [
        { datapoint: echo(points[3]!), error: 'Unknown metric' },
        { datapoint: echo(points[2]!), error: 'Invalid tag value ("e"): illegal character' },
      ],
    };
    expect(placeRefusals(points, answer)).toEqual({
      kind: 'refused',
      refusals: [
        { index: 3, message: `Unknown metric (datapoint c site=s,device=d at ${TS})` },
        {
          index: 2,
          message: `Invalid tag value ("e"): illegal character (datapoint a site=s,device=e at ${TS})`,
        },
      ],
    });
  });

  it('gives two equal datapoints of one batch one error each', () => {
    const twins = [dp('x', 5), dp('y', 1), dp('x', 5)];
    const errors = [0, 2].map((i) => ({ datapoint: echo(twins[i]!), error: 'Unknown metric' }));
    const placed = placeRefusals(twins, { success: 1, failed: 2, errors });
    expect(placed.kind === 'refused' && placed.refusals.map((r) => r.index)).toEqual([0, 2]);
  });

  it('lets the value decide between datapoints of one series and time', () => {
    const same = [dp('x', 1), dp('x', 2)];
    const placed = placeRefusals(same, {
      success: 1,
      failed: 1,
      errors: [{ datapoint: echo(same[1]!), error: 'e' }],
    });
    expect(placed.kind === 'refused' && placed.refusals.map((r) => r.index)).toEqual([1]);
  });

  it('retries the batch when any refusal is the server’s condition', () => {
    const answer = {
      success: 0,
      failed: 2,
      errors: [
        { datapoint: echo(points[0]!), error: 'Unknown metric' },
        { datapoint: echo(points[1]!), error: 'Storage exception: HBase is down' },
      ],
    };
    expect(placeRefusals(points, answer)).toEqual({
      kind: 'transient',
      message: '2 of 4 datapoints not stored: Storage exception: HBase is down',
    });
    for (const m of ['Please throttle', 'Timeout exception', 'Write timedout', 'Unexpected exception'])
      expect(isTransientRefusal(m), m).toBe(true);
    for (const m of ['Unknown metric', 'Unable to parse value to a number', 'Invalid metric name ("a b")'])
      expect(isTransientRefusal(m), m).toBe(false);
  });

  it('does not guess: an answer without details or about an unknown datapoint is left to the halving', () => {
    expect(placeRefusals(points, { success: 3, failed: 1, errors: [] }).kind).toBe('unplaced');
    const stranger = { datapoint: echo(dp('zzz', 1)), error: 'Unknown metric' };
    expect(placeRefusals(points, { success: 3, failed: 1, errors: [stranger] })).toEqual({
      kind: 'unplaced',
      message: expect.stringContaining(
        'the server refused a datapoint that is not in the batch (Unknown metric)',
      ),
    });
    // More errors for one datapoint than it occurs in the batch.
    const twice = [0, 0].map(() => ({ datapoint: echo(points[1]!), error: 'e' }));
    expect(placeRefusals(points, { success: 2, failed: 2, errors: twice }).kind).toBe('unplaced');
    // Fewer errors than failures.
    expect(
      placeRefusals(points, { success: 2, failed: 2, errors: [{ datapoint: echo(points[0]!), error: 'e' }] })
        .kind,
    ).toBe('unplaced');
  });
});

describe('serverMessage', () => {
  it('reads OpenTSDB’s error object and VictoriaMetrics’ text', () => {
    expect(
      serverMessage('{"error":{"code":400,"message":"Chunked request not supported.","details":"x"}}', 400),
    ).toBe('Chunked request not supported.: x');
    expect(serverMessage('cannot decode opentsdb data: unexpected end\n', 400)).toBe(
      'cannot decode opentsdb data: unexpected end',
    );
    expect(serverMessage('', 503)).toBe('HTTP 503 without a body');
    expect(serverMessage('x'.repeat(5_000), 500)).toHaveLength(1_000);
  });
});
