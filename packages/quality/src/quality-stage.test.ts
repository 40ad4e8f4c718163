import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type AlarmEvent, AlarmEventSchema, type ParsedRecord } from '@gridstream/schema';
import { describe, expect, it } from 'vitest';
import {
  compileQualityConfig,
  loadQualityConfig,
  parseQualityConfigYaml,
  QualityConfigError,
  type QualityConfigInput,
  validateQualityConfig,
} from './quality-config.js';
import { QualityStage, seriesKey } from './quality-stage.js';

const REPO = resolve(import.meta.dirname, '..', '..', '..');
const T0 = Date.parse('2026-01-01T00:00:00.000Z');

function iso(seconds: number): string {
  return new Date(T0 + seconds * 1000).toISOString();
}

function rec(
  seconds: number,
  fields: Record<string, number>,
  more: Partial<ParsedRecord> = {},
): ParsedRecord {
  return {
    v: 1,
    site: 'sionyu',
    equipment: 'battery',
    device: 'bank',
    ts: iso(seconds),
    fields,
    flags: {},
    schema: 'samples.v1',
    lineage: { topic: 'raw', partition: 0, offset: String(seconds) },
    ...more,
  };
}

function stage(input: QualityConfigInput, clock?: () => number): QualityStage {
  const config = compileQualityConfig(validateQualityConfig(input));
  return new QualityStage(config, clock ? { clock } : {});
}

/** Feeds one record per slice (committed) and returns the flags of `field` per record and every event. */
function feed(s: QualityStage, records: ParsedRecord[], field?: string) {
  const flags: (string[] | undefined)[] = [];
  const events: AlarmEvent[] = [];
  for (const r of records) {
    const out = s.process([r], 0);
    s.commit();
    events.push(...out.events);
    if (field !== undefined) flags.push(r.quality?.[field]);
  }
  for (const e of events) expect(AlarmEventSchema.safeParse(e).success, JSON.stringify(e)).toBe(true);
  return { flags, events };
}

/** The events as `state level ts value threshold` lines: the whole episode at a glance. */
function summary(events: AlarmEvent[]): string[] {
  return events.map(
    (e) => `${e.rule} ${e.state} ${e.level} @${(Date.parse(e.ts) - T0) / 1000} v=${e.value} t=${e.threshold}`,
  );
}

describe('field checks', () => {
  it('range rules from the ESS profile: the bank and a rack each get their own range; source flags are merged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quality-'));
    const path = join(dir, 'q.yaml');
    writeFileSync(path, `profiles: [${join(REPO, 'sample', 'profiles', 'ess-sionyu.yaml')}]\n`);
    const s = new QualityStage(await loadQualityConfig(path));
    // bank max_cell_voltage range 0..65.535; rack 1's is 0..65535 (as generated from the register map)
    const bank = rec(
      0,
      { max_cell_voltage: 70, soc: 50, not_in_profile: -1 },
      { quality: { soc: ['bad'], max_cell_voltage: ['out_of_range'] } },
    );
    const rack = rec(0, { max_cell_voltage: 70, soc: -1 }, { rack: '1' });
    s.process([bank, rack], 0);
    s.commit();
    expect(bank.quality).toEqual({ soc: ['bad'], max_cell_voltage: ['out_of_range'] });
    expect(rack.quality).toEqual({ soc: ['out_of_range'] });
    const pcs = rec(0, { ac_l1_thd: 1e9 }, { equipment: 'pcs', device: 'pcs' });
    s.process([pcs], 0);
    expect(pcs.quality).toBeUndefined(); // no range in the profile for this point
  });

  it('a range in the file overrides the profile; globs match field names', () => {
    const s = stage({
      rules: [{ equipment: 'battery', field: '*_cell_voltage', range: { min: 2.5, max: 4.3 } }],
    });
    const r = rec(0, { max_cell_voltage: 4.4, min_cell_voltage: 2.4, cell_voltage_gap: 9 });
    s.process([r], 0);
    expect(r.quality).toEqual({ max_cell_voltage: ['out_of_range'], min_cell_voltage: ['out_of_range'] });
  });

  it('rate of change: |Δv| / Δt (source seconds) above the limit', () => {
    const s = stage({ rules: [{ equipment: 'battery', field: 'soc', maxRatePerSecond: 1 }] });
    const values = [
      [0, 50],
      [1, 50.9],
      [2, 52.1], // 1.2/s
      [4, 53.9], // 0.9/s
      [5, 50], // 3.9/s
    ];
    const { flags } = feed(
      s,
      values.map(([t, v]) => rec(t!, { soc: v! })),
      'soc',
    );
    expect(flags).toEqual([undefined, undefined, ['rate_of_change'], undefined, ['rate_of_change']]);
  });

  it('stale: from the N-th consecutive record whose source timestamp does not advance', () => {
    const s = stage({ rules: [{ equipment: 'battery', field: 'soc', stale: { samples: 2 } }] });
    const ts = [0, 1, 1, 1, 1, 2, 2];
    const { flags } = feed(
      s,
      ts.map((t, i) => rec(t, { soc: 50 + i })),
      'soc',
    );
    expect(flags).toEqual([undefined, undefined, undefined, ['stale'], ['stale'], undefined, undefined]);
  });

  it('flatline: the N-th and later samples within tolerance of the run', () => {
    const s = stage({
      rules: [{ equipment: 'battery', field: 'soc', flatline: { samples: 3, tolerance: 0.01 } }],
    });
    const values = [50, 50, 50.005, 50, 51, 51, 51];
    const { flags } = feed(
      s,
      values.map((v, i) => rec(i, { soc: v })),
      'soc',
    );
    expect(flags).toEqual([
      undefined,
      undefined,
      ['flatline'],
      ['flatline'],
      undefined,
      undefined,
      ['flatline'],
    ]);
  });

  it('anomaly: values outside the series fences', () => {
    const s = stage({ rules: [{ equipment: 'battery', field: 'soc', anomaly: true }] });
    s.setFences(
      new Map([
        [
          seriesKey({ site: 'sionyu', equipment: 'battery', device: 'bank' }, 'soc'),
          { lower: 10, upper: 90 },
        ],
      ]),
    );
    const { flags } = feed(s, [rec(0, { soc: 50 }), rec(1, { soc: 95 }), rec(2, { soc: 5 })], 'soc');
    expect(flags).toEqual([undefined, ['anomaly'], ['anomaly']]);
  });
});

const overVoltage = {
  name: 'cell_over_voltage',
  equipment: 'battery',
  value: 'max_cell_voltage',
  direction: 'above' as const,
  warning: 4.05,
  fault: 4.1,
  hysteresis: 0.02,
};

describe('alarms', () => {
  it('hysteresis: a value oscillating around the threshold is one episode', () => {
    const s = stage({ alarms: [overVoltage] });
    const values = [4.0, 4.06, 4.04, 4.051, 4.035, 4.06, 4.02, 4.04, 4.029];
    const { events } = feed(
      s,
      values.map((v, i) => rec(i, { max_cell_voltage: v })),
    );
    expect(summary(events)).toEqual([
      'cell_over_voltage raised warning @1 v=4.06 t=4.05',
      'cell_over_voltage cleared warning @6 v=4.02 t=4.03',
    ]);
    expect(events[0]!.id).toBe('sionyu/battery/bank//cell_over_voltage@2026-01-01T00:00:01.000Z');
    expect(events[1]!.id).toBe(events[0]!.id);
    expect(events[1]!.raisedAt).toBe(iso(1));
  });

  it('escalates and deescalates within one episode', () => {
    const s = stage({ alarms: [overVoltage] });
    const values = [4.0, 4.07, 4.12, 4.09, 4.085, 4.07, 4.2, 4.0];
    const { events } = feed(
      s,
      values.map((v, i) => rec(i, { max_cell_voltage: v }, { rack: '3' })),
    );
    expect(summary(events)).toEqual([
      'cell_over_voltage raised warning @1 v=4.07 t=4.05',
      'cell_over_voltage escalated fault @2 v=4.12 t=4.1',
      'cell_over_voltage deescalated warning @5 v=4.07 t=4.08',
      'cell_over_voltage escalated fault @6 v=4.2 t=4.1',
      'cell_over_voltage cleared fault @7 v=4 t=4.03',
    ]);
    expect(new Set(events.map((e) => e.id))).toEqual(
      new Set(['sionyu/battery/bank/3/cell_over_voltage@2026-01-01T00:00:01.000Z']),
    );
    expect(events.every((e) => e.rack === '3')).toBe(true);
  });

  it('jumps straight to fault, and below-direction rules with a derived value', () => {
    const s = stage({
      alarms: [
        { ...overVoltage },
        {
          name: 'cell_under_voltage',
          equipment: 'battery',
          value: 'min_cell_voltage',
          direction: 'below',
          warning: 3.2,
          fault: 3.0,
        },
        {
          name: 'cell_voltage_gap',
          equipment: 'battery',
          value: 'max_cell_voltage - min_cell_voltage',
          direction: 'above',
          warning: 0.3,
          fault: 0.5,
        },
      ],
    });
    const { events } = feed(s, [
      rec(0, { max_cell_voltage: 4.2, min_cell_voltage: 3.5 }),
      rec(1, { max_cell_voltage: 3.4, min_cell_voltage: 2.9 }),
      rec(2, { max_cell_voltage: 3.4 }), // min missing: under-voltage and gap not evaluated
      rec(3, { max_cell_voltage: 3.4, min_cell_voltage: 3.3 }),
    ]);
    expect(summary(events)).toEqual([
      'cell_over_voltage raised fault @0 v=4.2 t=4.1',
      'cell_voltage_gap raised fault @0 v=0.7000000000000002 t=0.5',
      'cell_over_voltage cleared fault @1 v=3.4 t=4.03',
      'cell_under_voltage raised fault @1 v=2.9 t=3',
      'cell_voltage_gap deescalated warning @1 v=0.5 t=0.5',
      'cell_under_voltage cleared fault @3 v=3.3 t=3.2',
      'cell_voltage_gap cleared warning @3 v=0.10000000000000009 t=0.3',
    ]);
    expect(events[1]!.field).toBe('max_cell_voltage - min_cell_voltage');
  });

  it('abs(current): charge (negative) and discharge (positive) both trip the fault', () => {
    const s = stage({
      alarms: [
        { name: 'over_current', equipment: 'battery', value: 'abs(current)', direction: 'above', fault: 120 },
      ],
    });
    const { events } = feed(s, [
      rec(0, { current: -130 }),
      rec(1, { current: 10 }),
      rec(2, { current: 125 }),
    ]);
    expect(summary(events)).toEqual([
      'over_current raised fault @0 v=130 t=120',
      'over_current cleared fault @1 v=10 t=120',
      'over_current raised fault @2 v=125 t=120',
    ]);
  });

  it('minimum duration: raised only once the condition has held that long (source time)', () => {
    const s = stage({ alarms: [{ ...overVoltage, minDurationSeconds: 2 }] });
    const values = [4.06, 4.06, 4.0, 4.06, 4.07, 4.08, 4.0];
    const { events } = feed(
      s,
      values.map((v, i) => rec(i, { max_cell_voltage: v })),
    );
    expect(summary(events)).toEqual([
      'cell_over_voltage raised warning @5 v=4.08 t=4.05',
      'cell_over_voltage cleared warning @6 v=4 t=4.03',
    ]);
  });

  it('ignores records not newer than the last one evaluated (redelivery, disorder)', () => {
    const s = stage({ alarms: [overVoltage] });
    const { events } = feed(s, [
      rec(0, { max_cell_voltage: 4.2 }),
      rec(0, { max_cell_voltage: 4.0 }),
      rec(-5, { max_cell_voltage: 4.0 }),
    ]);
    expect(summary(events)).toEqual(['cell_over_voltage raised fault @0 v=4.2 t=4.1']);
  });

  it('a rolled-back slice, run again, produces exactly the same flags and events', () => {
    const s = stage({
      rules: [{ equipment: 'battery', field: 'soc', flatline: { samples: 2 } }],
      alarms: [overVoltage],
    });
    feed(s, [rec(0, { soc: 1, max_cell_voltage: 4.0 })]);
    const slice = () => [
      rec(1, { soc: 1, max_cell_voltage: 4.2 }),
      rec(2, { soc: 1, max_cell_voltage: 4.0 }),
    ];
    const first = slice();
    const a = s.process(first, 0);
    s.rollback();
    const second = slice();
    const b = s.process(second, 0);
    s.commit();
    expect(b.events).toEqual(a.events);
    expect(second.map((r) => r.quality)).toEqual(first.map((r) => r.quality));
    expect(summary(b.events)).toHaveLength(2);
  });

  it('restore: an episode active before a restart is continued, not raised again', () => {
    const before = stage({ alarms: [overVoltage] });
    const { events: old } = feed(before, [rec(0, { max_cell_voltage: 4.07 })]);
    const after = stage({ alarms: [overVoltage] });
    // Kafka hands back JSON: what the restore reads is the parsed value, garbage included.
    expect(after.restore([...JSON.parse(JSON.stringify(old)), { junk: true }, null, 'x'])).toBe(1);
    const { events } = feed(after, [
      rec(1, { max_cell_voltage: 4.08 }),
      rec(2, { max_cell_voltage: 4.2 }),
      rec(3, { max_cell_voltage: 4.0 }),
    ]);
    expect(summary(events)).toEqual([
      'cell_over_voltage escalated fault @2 v=4.2 t=4.1',
      'cell_over_voltage cleared fault @3 v=4 t=4.03',
    ]);
    expect(events[0]!.id).toBe(old[0]!.id);
    expect(events[0]!.raisedAt).toBe(iso(0));
  });

  it('restore: a cleared episode is not restored', () => {
    const s1 = stage({ alarms: [overVoltage] });
    const { events } = feed(s1, [rec(0, { max_cell_voltage: 4.07 }), rec(1, { max_cell_voltage: 4.0 })]);
    const s2 = stage({ alarms: [overVoltage] });
    expect(s2.restore(events)).toBe(0);
  });

  it('a revoked partition forgets its state', () => {
    const s = stage({ alarms: [overVoltage] });
    s.process([rec(0, { max_cell_voltage: 4.2 })], 1);
    s.commit();
    s.assign([0]);
    const out = s.process([rec(1, { max_cell_voltage: 4.2 })], 1);
    expect(summary(out.events)).toEqual(['cell_over_voltage raised fault @1 v=4.2 t=4.1']);
  });

  it('never throws on records that break every assumption', () => {
    const s = stage({
      rules: [
        {
          equipment: '*',
          field: '*',
          range: { min: 0, max: 1 },
          maxRatePerSecond: 1,
          stale: { samples: 1 },
          flatline: { samples: 2 },
        },
      ],
      alarms: [overVoltage],
      expectedDevices: [{ site: 'sionyu', equipment: 'battery', device: 'bank' }],
    });
    const weird = [
      rec(0, {}),
      { ...rec(1, { max_cell_voltage: 5 }), ts: 'not a time' },
      {
        ...rec(2, { max_cell_voltage: 5 }),
        quality: { max_cell_voltage: 'oops' },
      } as unknown as ParsedRecord,
      { ...rec(3, { constructor: 1, __proto__x: 2 } as Record<string, number>) },
      { v: 1 } as unknown as ParsedRecord,
    ];
    expect(() => s.process(weird, 0)).not.toThrow();
    expect(() => s.checkMissing()).not.toThrow();
  });
});

describe('redelivery (the offset commit after a produced slice failed)', () => {
  const rules = [
    {
      equipment: 'battery',
      field: 'soc',
      stale: { samples: 2 },
      flatline: { samples: 3, tolerance: 0.01 },
      maxRatePerSecond: 1,
    },
  ];
  /** Records as the parser builds them, fresh each time: offset = raw offset, ts in seconds. */
  const raw = (rows: [offset: number, seconds: number, soc: number, voltage: number, rack?: string][]) =>
    rows.map(([offset, t, soc, v, rack]) =>
      rec(
        t,
        { soc, max_cell_voltage: v },
        {
          lineage: { topic: 'raw', partition: 0, offset: String(offset) },
          ...(rack ? { rack } : {}),
        },
      ),
    );
  const sliceA = () =>
    raw([
      [0, 0, 50, 4.0],
      [1, 1, 50, 4.0],
    ]);
  const sliceB = () =>
    raw([
      [2, 2, 50, 4.2], // flatline (3rd in a row), raises the alarm
      [3, 3, 53, 4.2], // rate_of_change 3/s
      [4, 3, 54, 4.2], // ts did not advance: a repeat
      [5, 3, 55, 4.2], // second repeat: stale
      [6, 4, 10, 4.0, '1'], // a series the slice creates
    ]);
  const sliceC = () => raw([[7, 5, 54, 4.0]]);
  const offsetsOf = (records: ParsedRecord[]) => ({
    first: records[0]!.lineage.offset,
    last: records[records.length - 1]!.lineage.offset,
  });
  const run = (s: QualityStage, records: ParsedRecord[], offsets = offsetsOf(records)) => {
    const out = s.process(records, 0, offsets);
    s.commit();
    return out;
  };

  it('the same slice again gets byte-identical flags and changes no alarm', () => {
    const s = stage({ rules, alarms: [overVoltage] });
    run(s, sliceA());
    const first = sliceB();
    const a = run(s, first);
    expect(first.map((r) => r.quality?.soc)).toEqual([
      ['flatline'],
      ['rate_of_change'],
      undefined,
      ['stale'],
      undefined,
    ]);
    expect(summary(a.events)).toEqual(['cell_over_voltage raised fault @2 v=4.2 t=4.1']);
    expect(a.redelivery).toBeUndefined();

    const again = sliceB();
    const b = run(s, again);
    expect(JSON.stringify(again)).toBe(JSON.stringify(first));
    expect(b.events).toEqual([]);
    expect(b.flagsAdded).toEqual(a.flagsAdded);
    expect(b.redelivery).toBe('exact');

    // And a third time, the retry of a redelivery whose produce failed: still the same.
    const failed = sliceB();
    s.process(failed, 0, offsetsOf(failed));
    s.rollback();
    const retried = sliceB();
    run(s, retried);
    expect(JSON.stringify(failed)).toBe(JSON.stringify(first));
    expect(JSON.stringify(retried)).toBe(JSON.stringify(first));

    // The state goes on from the end of the slice, and the episode is the one raised the first time.
    const next = sliceC();
    const c = run(s, next);
    expect(c.redelivery).toBeUndefined();
    expect(next[0]!.quality).toBeUndefined();
    expect(summary(c.events)).toEqual(['cell_over_voltage cleared fault @5 v=4 t=4.03']);
    expect(c.events[0]!.id).toBe(a.events[0]!.id);
  });

  it('a redelivered slice that is longer than the first one (different batch) checks the rest as new', () => {
    const s = stage({ rules });
    run(s, sliceA());
    const first = sliceB();
    run(s, first);
    const again = [...sliceB(), ...sliceC()];
    run(s, again);
    expect(JSON.stringify(again.slice(0, 5))).toBe(JSON.stringify(first));
    expect(again[5]!.quality).toBeUndefined();
    // And the slice after it is a new one again: checked against the advanced state.
    const d = raw([[8, 5, 54, 4.0]]);
    const out = run(s, d);
    expect(out.redelivery).toBeUndefined();
    expect(d[0]!.quality?.soc).toBeUndefined(); // one repeat of ts 5: not yet stale
  });

  it('a slice older than the one kept restarts the series state instead of flagging repeats', () => {
    const s = stage({ rules });
    run(s, sliceA());
    run(s, sliceB());
    const old = sliceA();
    const out = run(s, old);
    expect(out.redelivery).toBe('reset');
    expect(old.map((r) => r.quality?.soc)).toEqual([undefined, undefined]);
  });

  it('without offsets (the old call) nothing is tracked', () => {
    const s = stage({ rules });
    const first = sliceB();
    s.process(first, 0);
    s.commit();
    const again = sliceB();
    expect(s.process(again, 0).redelivery).toBeUndefined();
    expect(again[0]!.quality?.soc).toEqual(['stale']);
  });
});

describe('missing devices', () => {
  it('raises device_missing once when an expected device goes silent and clears it once when it is back', () => {
    let now = T0;
    const s = stage(
      {
        expectedDevices: [
          { site: 'sionyu', equipment: 'battery', device: 'bank', silentAfterSeconds: 30 },
          { site: 'other', equipment: 'pcs', device: 'pcs', silentAfterSeconds: 30 },
        ],
      },
      () => now,
    );
    s.assign([0], (site) => site === 'sionyu'); // `other` belongs to another parser instance
    const events: AlarmEvent[] = [];
    const tick = () => {
      events.push(...s.checkMissing());
      s.commit();
    };
    tick(); // watching starts
    for (let t = 0; t <= 20; t += 10) {
      now = T0 + t * 1000;
      events.push(...s.process([rec(t, { soc: 1 })], 0).events);
      s.commit();
      tick();
    }
    for (let t = 30; t <= 120; t += 5) {
      now = T0 + t * 1000;
      tick();
    }
    now = T0 + 125_000;
    events.push(...s.process([rec(125, { soc: 1 })], 0).events);
    s.commit();
    now = T0 + 126_000;
    tick();
    expect(summary(events)).toEqual([
      'device_missing raised fault @55 v=null t=30',
      'device_missing cleared fault @125 v=null t=30',
    ]);
    expect(events[0]!.id).toBe('sionyu/battery/bank//device_missing@2026-01-01T00:00:55.000Z');
    expect(events[1]!.id).toBe(events[0]!.id);
    for (const e of events) expect(AlarmEventSchema.safeParse(e).success).toBe(true);
  });
});

describe('configuration file', () => {
  it('lists every problem with its path', () => {
    let error: unknown;
    try {
      parseQualityConfigYaml(
        [
          'rules:',
          '  - { equipment: battery, field: soc, range: { min: 5, max: 1 } }',
          '  - { equipment: battery, stale: { samples: 0 } }',
          'alarms:',
          '  - { name: Bad-Name, equipment: battery, value: "a - b - c", direction: above, warning: 1 }',
          '  - { name: x, equipment: battery, value: v, direction: above, warning: 2, fault: 1 }',
          '  - { name: x, equipment: battery, value: v, direction: sideways }',
          'surprise: 1',
        ].join('\n'),
        'q.yaml',
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(QualityConfigError);
    const text = (error as QualityConfigError).message;
    for (const expected of [
      'q.yaml',
      'rules[0].range: min must not exceed max',
      'rules[1].field',
      'rules[1].stale.samples',
      'alarms[0].name',
      'alarms[0].value',
      'alarms[1].fault',
      'alarms[2].direction',
      'surprise',
    ]) {
      expect(text).toContain(expected);
    }
  });

  it('the shipped ESS protection file loads, with the profile ranges', async () => {
    const config = await loadQualityConfig(join(REPO, 'sample', 'quality', 'ess-protection.yaml'));
    expect(config.alarms.map((a) => a.name)).toEqual([
      'cell_over_voltage',
      'cell_under_voltage',
      'cell_voltage_gap',
      'over_current',
      'over_temperature',
      'under_temperature',
      'temperature_gap',
    ]);
    expect(config.fieldRules.length).toBeGreaterThan(100);
  });
});

describe('random input', () => {
  it('checks 5,000 random records with the shipped ESS rules without an error, every event valid', async () => {
    const s = new QualityStage(
      await loadQualityConfig(join(REPO, 'sample', 'quality', 'ess-protection.yaml')),
    );
    let seed = 7;
    const random = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
    const pick = <T>(list: T[]): T => list[Math.floor(random() * list.length)]!;
    const values = [0, -0, 1e308, -1e308, 5e-324, 4.05, 4.1, 3.2, 3.0, 120, -120, 55, -10, 0.3, 0.5];
    const names = [
      'max_cell_voltage',
      'min_cell_voltage',
      'current',
      'max_cell_temperature',
      'min_cell_temperature',
      'soc',
      'x',
    ];
    let errors = 0;
    const events: AlarmEvent[] = [];
    for (let i = 0; i < 5_000; i++) {
      const fields: Record<string, number> = {};
      for (const name of names)
        if (random() < 0.6) fields[name] = random() < 0.5 ? pick(values) : (random() - 0.5) * 200;
      const r = rec(Math.floor(random() * 50), fields, {
        site: pick(['sionyu', 'a', 'b']),
        equipment: pick(['battery', 'pcs']),
        ...(random() < 0.5 ? { rack: pick(['1', '2', '8']) } : {}),
      });
      const out = s.process([r], Math.floor(random() * 3));
      if (random() < 0.1) s.rollback();
      else s.commit();
      errors += out.errors;
      events.push(...out.events);
    }
    expect(errors).toBe(0);
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) expect(AlarmEventSchema.safeParse(e).success, JSON.stringify(e)).toBe(true);
  });
});
