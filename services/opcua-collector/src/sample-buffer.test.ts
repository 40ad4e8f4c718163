import { describe, expect, it } from 'vitest';
import { type DeviceSlot, type PointSlot, type Reading, SampleBuffer } from './sample-buffer.js';

const T0 = Date.parse('2024-05-01T10:00:00.000Z');

function device(rack?: string): DeviceSlot {
  const d: DeviceSlot = {
    site: 's1',
    equipment: 'battery',
    device: 'bank',
    key: `s1/battery/bank${rack ? `/${rack}` : ''}`,
  };
  if (rack) d.rack = rack;
  return d;
}

function reading(value: number | boolean | null, extra: Partial<Reading> = {}): Reading {
  return {
    value:
      value === null
        ? { kind: 'empty' }
        : typeof value === 'boolean'
          ? { kind: 'boolean', value }
          : { kind: 'number', value },
    severity: 'good',
    sourceTsMs: T0,
    receivedAtMs: T0 + 50,
    ...extra,
  };
}

describe('SampleBuffer', () => {
  it('groups points of one device and source timestamp into one sample, booleans as flags', () => {
    const d = device('3');
    const soc: PointSlot = { device: d, field: 'soc' };
    const fault: PointSlot = { device: d, field: 'fault' };
    const buffer = new SampleBuffer();
    buffer.add(soc, reading(55.5), { changeOnly: true });
    buffer.add(fault, reading(true), { changeOnly: true });
    buffer.add(soc, reading(55.7, { sourceTsMs: T0 + 1000 }), { changeOnly: true });
    const samples = buffer.drain(T0 + 10_000, 0);
    expect(samples).toEqual([
      {
        site: 's1',
        equipment: 'battery',
        device: 'bank',
        rack: '3',
        ts: '2024-05-01T10:00:00.000Z',
        fields: { soc: 55.5 },
        flags: { fault: true },
      },
      {
        site: 's1',
        equipment: 'battery',
        device: 'bank',
        rack: '3',
        ts: '2024-05-01T10:00:01.000Z',
        fields: { soc: 55.7 },
      },
    ]);
    expect(d.lastGoodTsMs).toBe(T0 + 1000);
  });

  it('flags Bad and Uncertain values; a Bad value without a number keeps only the flag', () => {
    const d = device();
    const buffer = new SampleBuffer();
    buffer.add({ device: d, field: 'v' }, reading(400.1, { severity: 'uncertain' }), { changeOnly: true });
    buffer.add({ device: d, field: 'i' }, reading(null, { severity: 'bad' }), { changeOnly: true });
    buffer.add({ device: d, field: 'p' }, reading(Number.NaN), { changeOnly: true });
    buffer.add({ device: d, field: 'q' }, reading(12, { severity: 'bad' }), { changeOnly: true });
    const [sample] = buffer.drain(T0 + 10_000, 0);
    expect(sample).toMatchObject({
      fields: { v: 400.1, q: 12 },
      quality: { v: ['uncertain'], i: ['bad'], p: ['bad'], q: ['bad'] },
    });
    expect(d.lastGoodTsMs).toBeUndefined();
  });

  it('drops a value re-sent with its old timestamp (reconnect), keeps a changed value at the same timestamp', () => {
    const buffer = new SampleBuffer();
    const p: PointSlot = { device: device(), field: 'soc' };
    expect(buffer.add(p, reading(50), { changeOnly: true }).kind).toBe('added');
    expect(buffer.add(p, reading(50), { changeOnly: true }).kind).toBe('duplicate');
    expect(buffer.add(p, reading(50, { severity: 'uncertain' }), { changeOnly: true }).kind).toBe('added');
  });

  it('falls back to the server timestamp, then the arrival time, and never re-stamps an unchanged value', () => {
    const buffer = new SampleBuffer();
    const p: PointSlot = { device: device(), field: 'soc' };
    const noSource = { sourceTsMs: undefined, serverTsMs: T0 + 5 };
    expect(buffer.add(p, reading(1, noSource), { changeOnly: true })).toEqual({
      kind: 'added',
      timestamp: 'server',
    });
    const none = { sourceTsMs: undefined, serverTsMs: undefined, receivedAtMs: T0 + 9_000 };
    expect(buffer.add(p, reading(2, none), { changeOnly: true })).toEqual({
      kind: 'added',
      timestamp: 'received',
    });
    // The same value again (a resubscription's initial value) must not become a point at a new time.
    expect(buffer.add(p, reading(2, { ...none, receivedAtMs: T0 + 20_000 }), { changeOnly: true }).kind).toBe(
      'duplicate',
    );
    // Polling without timestamps is like Modbus: every read is a reading at its read time.
    expect(
      buffer.add(p, reading(2, { ...none, receivedAtMs: T0 + 21_000 }), { changeOnly: false }).kind,
    ).toBe('added');
  });

  it('holds a sample back until it is old enough, so the rest of its scan can join it', () => {
    const buffer = new SampleBuffer();
    const d = device();
    buffer.add({ device: d, field: 'a' }, reading(1), { changeOnly: true });
    expect(buffer.drain(T0 + 100, 200)).toEqual([]);
    buffer.add({ device: d, field: 'b' }, reading(2, { receivedAtMs: T0 + 150 }), { changeOnly: true });
    expect(buffer.drain(T0 + 260, 200)).toEqual([expect.objectContaining({ fields: { a: 1, b: 2 } })]);
  });

  it('ignores strings and arrays', () => {
    const buffer = new SampleBuffer();
    const out = buffer.add(
      { device: device(), field: 'name' },
      { ...reading(0), value: { kind: 'unsupported', dataType: 'String' } },
      { changeOnly: true },
    );
    expect(out).toEqual({ kind: 'unsupported', dataType: 'String' });
    expect(buffer.size).toBe(0);
  });
});
