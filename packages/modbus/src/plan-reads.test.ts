import { describe, expect, it } from 'vitest';
import { planReads } from './plan-reads.js';
import type { ModbusFunction, PointType, ProfilePoint } from './profile-schema.js';

function p(
  address: number,
  words = 1,
  fn: ModbusFunction = 'input',
  type: PointType = 'uint16',
): ProfilePoint {
  return {
    name: `r${fn}${address}`,
    function: fn,
    address,
    type,
    words,
    order: 'ABCD',
    scale: 1,
    offset: 0,
    equipment: 'battery',
    device: 'bank',
  };
}

function range(from: number, to: number): ProfilePoint[] {
  const out: ProfilePoint[] = [];
  for (let a = from; a <= to; a++) out.push(p(a));
  return out;
}

const shape = (reads: ReturnType<typeof planReads>) => reads.map((r) => [r.function, r.address, r.count]);

describe('planReads', () => {
  it('reads the ESS map (0-136, 200-465, 500-588, 600-605) in exactly seven requests', () => {
    const points = [
      ...range(0, 136),
      ...range(200, 465),
      ...range(500, 588),
      p(600),
      p(601),
      p(602, 2),
      p(604, 2),
    ];
    const reads = planReads(points, { maxRegistersPerRead: 125, maxGap: 10 });
    expect(shape(reads)).toEqual([
      ['input', 0, 125],
      ['input', 125, 12],
      ['input', 200, 125],
      ['input', 325, 125],
      ['input', 450, 16],
      ['input', 500, 89],
      ['input', 600, 6],
    ]);
    expect(reads.reduce((n, r) => n + r.points.length, 0)).toBe(points.length);
  });

  it('bridges gaps up to maxGap and no further', () => {
    expect(shape(planReads([p(0), p(11)], { maxGap: 10 }))).toEqual([['input', 0, 12]]);
    expect(shape(planReads([p(0), p(12)], { maxGap: 10 }))).toEqual([
      ['input', 0, 1],
      ['input', 12, 1],
    ]);
    expect(shape(planReads([p(0), p(1), p(3)], { maxGap: 0 }))).toEqual([
      ['input', 0, 2],
      ['input', 3, 1],
    ]);
  });

  it('never splits a multi-register point across reads', () => {
    const reads = planReads([p(0, 2), p(2, 2), p(4, 2)], { maxRegistersPerRead: 5 });
    expect(shape(reads)).toEqual([
      ['input', 0, 4],
      ['input', 4, 2],
    ]);
  });

  it('separates function codes and plans coils up to 2000 bits', () => {
    const coils = Array.from({ length: 2001 }, (_, i) => p(i, 1, 'coil', 'bool'));
    const reads = planReads([p(0, 1, 'holding'), ...coils, p(0)]);
    expect(shape(reads)).toEqual([
      ['coil', 0, 2000],
      ['coil', 2000, 1],
      ['holding', 0, 1],
      ['input', 0, 1],
    ]);
  });

  it('lets bit points share a register and keeps overlapping points in one read', () => {
    const bits = [0, 1, 2].map((bit) => ({ ...p(5, 1, 'holding', 'bit'), name: `b${bit}`, bit }));
    const reads = planReads([...bits, p(5, 1, 'holding')]);
    expect(shape(reads)).toEqual([['holding', 5, 1]]);
    expect(reads[0]!.points).toHaveLength(4);
  });

  it('is deterministic whatever the order of the points', () => {
    const points = [...range(0, 300), p(1000, 2), p(990, 4)];
    const shuffled = [...points].reverse();
    expect(planReads(shuffled)).toEqual(planReads(points));
  });

  it('caps the limits at the protocol maximum', () => {
    expect(shape(planReads(range(0, 129), { maxRegistersPerRead: 500 }))).toEqual([
      ['input', 0, 125],
      ['input', 125, 5],
    ]);
  });
});
