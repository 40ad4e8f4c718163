import { describe, expect, it } from 'vitest';
import { DeviceState, microgridDevices } from './opcua-model.js';

describe('OPC UA simulator model', () => {
  it('has the microgrid devices, and N x M bench points in bench mode', () => {
    const names = microgridDevices({ batteries: 3 }).map((d) => d.name);
    expect(names).toEqual(['Battery01', 'Battery02', 'Battery03', 'PCS01', 'PV01', 'EVCharger01']);
    const bench = microgridDevices({ batteries: 0, benchDevices: 1000, pointsPerDevice: 10 }).filter(
      (d) => d.equipment === 'bench',
    );
    expect(bench).toHaveLength(1000);
    expect(bench.reduce((n, d) => n + d.points.length, 0)).toBe(10_000);
    expect(bench[999]!.name).toBe('Bench01000');
  });

  it('moves every number on every tick, inside its range, and is reproducible from the seed', () => {
    const [battery] = microgridDevices();
    const a = new DeviceState(battery!, 'Site01', 7);
    const b = new DeviceState(battery!, 'Site01', 7);
    for (let tick = 0; tick < 500; tick++) {
      const before = [...a.values];
      a.tick();
      b.tick();
      battery!.points.forEach((p, i) => {
        if (p.kind !== 'number') return;
        expect(a.values[i]).not.toBe(before[i]);
        expect(a.values[i]).toBeGreaterThanOrEqual(p.range!.low);
        expect(a.values[i]).toBeLessThanOrEqual(p.range!.high);
      });
    }
    expect(a.values).toEqual(b.values);
    const current = battery!.points.findIndex((p) => p.name === 'Current');
    expect(battery!.points[current]!.initial).toBeLessThan(0);
  });
});
