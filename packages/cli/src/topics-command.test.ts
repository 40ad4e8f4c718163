import type { PartitionLag } from '@gridstream/kafka';
import { describe, expect, it } from 'vitest';
import { formatLag, lagToJson } from './topics-command.js';

const rows: PartitionLag[] = [
  { topic: 'telemetry.raw', partition: 0, committed: '120', high: '150', lag: 30 },
  // Never committed: the lag counts from the partition's earliest offset (consumerLag's job).
  { topic: 'telemetry.raw', partition: 1, committed: '-1', high: '40', lag: 40 },
  { topic: 'telemetry.raw', partition: 2, committed: '9007199254740993', high: '9007199254740993', lag: 0 },
];

describe('topics lag output', () => {
  it('the table: one line per partition and the total', () => {
    expect(formatLag(rows).split('\n')).toEqual([
      'topic\tpartition\tcommitted\thigh\tlag',
      'telemetry.raw\t0\t120\t150\t30',
      'telemetry.raw\t1\t-1\t40\t40',
      'telemetry.raw\t2\t9007199254740993\t9007199254740993\t0',
      'total lag: 70',
    ]);
  });

  it('--json: per partition group, topic, partition, committed, end, lag; offsets as strings; the total', () => {
    expect(JSON.parse(JSON.stringify(lagToJson('gridstream-parser', rows)))).toEqual({
      group: 'gridstream-parser',
      partitions: [
        {
          group: 'gridstream-parser',
          topic: 'telemetry.raw',
          partition: 0,
          committed: '120',
          end: '150',
          lag: 30,
        },
        {
          group: 'gridstream-parser',
          topic: 'telemetry.raw',
          partition: 1,
          committed: null,
          end: '40',
          lag: 40,
        },
        {
          group: 'gridstream-parser',
          topic: 'telemetry.raw',
          partition: 2,
          committed: '9007199254740993',
          end: '9007199254740993',
          lag: 0,
        },
      ],
      total: 70,
    });
    expect(lagToJson('g', [])).toEqual({ group: 'g', partitions: [], total: 0 });
  });
});
