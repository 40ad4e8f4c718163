import { describe, expect, it } from 'vitest';
import type { BatchItem } from './point-batcher.js';
import type { PointRefusal } from './sink-target.js';
import { SinkWriteError } from './sink-write-error.js';
import { writeWithSplit } from './write-with-split.js';

const items = (n: number): BatchItem<number, string>[] =>
  Array.from({ length: n }, (_, i) => ({ point: i, ref: `r${i}` }));

/** A server that refuses any batch holding a negative point, as a database refuses a bad value. */
function refusingNegatives() {
  const requests: number[][] = [];
  const write = async (points: number[]) => {
    requests.push(points);
    const bad = points.find((p) => p < 0);
    if (bad !== undefined) throw new SinkWriteError(`value ${bad} out of range`, false, 400);
  };
  return { requests, write };
}

describe('writeWithSplit', () => {
  it('isolates exactly the refused points by halving, with the server message, and writes each good one', async () => {
    const batch = items(100).map((i) => (i.ref === 'r13' || i.ref === 'r77' ? { ...i, point: -i.point } : i));
    const server = refusingNegatives();
    const rejected = await writeWithSplit(server.write, batch);
    expect(rejected).toEqual([
      { ref: 'r13', message: 'value -13 out of range' },
      { ref: 'r77', message: 'value -77 out of range' },
    ]);
    const accepted = server.requests.filter((r) => r.every((p) => p >= 0)).flat();
    expect(accepted.sort((a, b) => a - b)).toEqual(
      Array.from({ length: 100 }, (_, i) => i).filter((i) => i !== 13 && i !== 77),
    );
  });

  it('takes the refusals a server names (by index) without a search', async () => {
    const requests: number[][] = [];
    const write = async (points: number[]): Promise<PointRefusal[]> => {
      requests.push(points);
      return [{ index: 4, message: 'bad metric name' }];
    };
    expect(await writeWithSplit(write, items(10))).toEqual([{ ref: 'r4', message: 'bad metric name' }]);
    expect(requests).toHaveLength(1);
  });

  it('throws rather than lose a refusal it cannot place', async () => {
    const write = async (): Promise<PointRefusal[]> => [{ index: 10, message: 'x' }];
    await expect(writeWithSplit(write, items(10))).rejects.toThrow(/refused point #10 of a batch of 10/);
  });

  it('throws retriable errors straight back (no halving during an outage)', async () => {
    let requests = 0;
    const write = async () => {
      requests++;
      throw new SinkWriteError('connection refused', true);
    };
    await expect(writeWithSplit(write, items(64))).rejects.toThrow(/connection refused/);
    expect(requests).toBe(1);
    await expect(writeWithSplit(() => Promise.reject(new Error('socket hang up')), items(4))).rejects.toThrow(
      'socket hang up',
    );
  });
});
