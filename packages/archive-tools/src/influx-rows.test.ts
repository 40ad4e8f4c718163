import { describe, expect, it } from 'vitest';
import { newConversionStats, seriesToRows } from './influx-rows.js';

describe('InfluxDB points → archive rows', () => {
  it('turns floats into readings, booleans into flags, __quality into the quality column', () => {
    const out: Parameters<typeof seriesToRows>[1] = [];
    const stats = newConversionStats();
    seriesToRows(
      {
        name: 'battery',
        tags: { site: 's1', device: 'bank', rack: '2' },
        columns: ['time', 'fault', 'firmware', 'soc', 'soc__quality', 'voltage'],
        values: [
          [1000, false, 'v1', 55.5, 'out_of_range', null],
          [2000, true, null, null, null, 700],
        ],
      },
      out,
      stats,
    );
    expect(out).toEqual([
      {
        tsMs: 1000,
        equipment: 'battery',
        site: 's1',
        device: 'bank',
        rack: '2',
        field: 'fault',
        value: 0,
        isFlag: true,
        quality: null,
      },
      {
        tsMs: 1000,
        equipment: 'battery',
        site: 's1',
        device: 'bank',
        rack: '2',
        field: 'soc',
        value: 55.5,
        isFlag: false,
        quality: 'out_of_range',
      },
      {
        tsMs: 2000,
        equipment: 'battery',
        site: 's1',
        device: 'bank',
        rack: '2',
        field: 'fault',
        value: 1,
        isFlag: true,
        quality: null,
      },
      {
        tsMs: 2000,
        equipment: 'battery',
        site: 's1',
        device: 'bank',
        rack: '2',
        field: 'voltage',
        value: 700,
        isFlag: false,
        quality: null,
      },
    ]);
    expect(stats).toEqual({ points: 2, rows: 4, skippedStrings: 1, skippedUntagged: 0 });
  });

  it('maps an empty rack tag (GROUP BY *) to null and skips points without site or device', () => {
    const out: Parameters<typeof seriesToRows>[1] = [];
    const stats = newConversionStats();
    seriesToRows(
      { name: 'pcs', tags: { site: 's1', device: 'p', rack: '' }, columns: ['time', 'p'], values: [[1, 2]] },
      out,
      stats,
    );
    seriesToRows(
      { name: 'pcs', tags: { site: '', device: 'p' }, columns: ['time', 'p'], values: [[1, 2]] },
      out,
      stats,
    );
    expect(out.map((r) => r.rack)).toEqual([null]);
    expect(stats.skippedUntagged).toBe(1);
  });
});
