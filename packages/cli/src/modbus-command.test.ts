import { parseProfileYaml } from '@gridstream/modbus';
import { describe, expect, it } from 'vitest';
import { formatProbe, type ProbeOptions, probeToJson } from './modbus-command.js';

/** int32, uint32 and float32 of four big-endian bytes (hex), read by node's Buffer, not by the decoder. */
function pair(hex: string) {
  const b = Buffer.from(hex, 'hex');
  return { int32: b.readInt32BE(), uint32: b.readUInt32BE(), float32: b.readFloatBE() };
}

const { profile } = parseProfileYaml(`name: pcs
site: s
unitId: 1
equipment: pcs
device: p1
points:
  - { name: pi, function: holding, address: 100, type: float32, unit: rad }
  - { name: current, function: holding, address: 102, type: int16, scale: 0.1, unit: A, range: { min: -5, max: 5 } }
  - { name: run, function: coil, address: 0, type: bool }
`);

const options = (over: Partial<ProbeOptions>): ProbeOptions => ({
  host: '127.0.0.1',
  port: 502,
  unit: 1,
  address: 100,
  count: 3,
  fn: 'holding',
  timeoutMs: 2000,
  ...over,
});

describe('probeToJson', () => {
  it('every register raw and in every decoding, with the profile points and their readings', () => {
    const json = probeToJson(options({ profile, profilePath: 'pcs.yaml' }), [0x4049, 0x0fdb, 0xff9c], 7);
    const { registers, ...head } = json;
    expect(head).toEqual({
      host: '127.0.0.1',
      port: 502,
      unit: 1,
      function: 'holding',
      address: 100,
      count: 3,
      ms: 7,
      profile: 'pcs.yaml',
    });
    expect(registers).toHaveLength(3);
    expect(registers![0]).toEqual({
      address: 100,
      value: 0x4049,
      hex: '0x4049',
      uint16: 16457,
      int16: 16457,
      // float32 π as the table prints it: the shortest text that reads back as the same float32.
      pair: {
        ABCD: { ...pair('40490fdb'), float32: Number('3.1415927') },
        CDAB: { ...pair('0fdb4049'), float32: 2.1619829e-29 },
        BADC: { ...pair('4940db0f'), float32: 789936.94 },
        DCBA: { ...pair('db0f4940'), float32: -4.033146e16 },
      },
      points: [
        {
          name: 'pi',
          equipment: 'pcs',
          device: 'p1',
          type: 'float32',
          order: 'ABCD',
          words: 2,
          scale: 1,
          offset: 0,
          unit: 'rad',
          reading: { value: Math.fround(Math.PI), bad: false, outOfRange: false },
        },
      ],
      within: [],
    });
    // float32s are the shortest numbers that read back as the same float32 (as the table prints them).
    const bytes = { ABCD: '40490fdb', CDAB: '0fdb4049', BADC: '4940db0f', DCBA: 'db0f4940' } as const;
    for (const [order, hex] of Object.entries(bytes))
      expect(Math.fround(registers![0]!.pair![order as keyof typeof bytes].float32 as number)).toBe(
        pair(hex).float32,
      );
    expect(registers![1]).toMatchObject({
      address: 101,
      value: 0x0fdb,
      hex: '0x0FDB',
      uint16: 4059,
      int16: 4059,
      pair: { ABCD: { ...pair('0fdbff9c'), float32: 2.1693524e-29 } },
      points: [],
      within: [{ point: 'pi', word: 2 }],
    });
    expect(registers![2]).toEqual({
      address: 102,
      value: 0xff9c,
      hex: '0xFF9C',
      uint16: 65436,
      int16: -100,
      pair: null,
      points: [
        {
          name: 'current',
          equipment: 'pcs',
          device: 'p1',
          type: 'int16',
          order: 'ABCD',
          words: 1,
          scale: 0.1,
          offset: 0,
          unit: 'A',
          range: { min: -5, max: 5 },
          reading: { value: -10, bad: false, outOfRange: true },
        },
      ],
      within: [],
    });
    // The same read as the table shows it.
    const table = formatProbe(options({ profile, profilePath: 'pcs.yaml' }), [0x4049, 0x0fdb, 0xff9c], 7);
    expect(table).toContain('current [pcs/p1] int16 ×0.1 A range -5..5 = -10 A OUT OF RANGE');
    expect(table).toContain('pi [pcs/p1] float32 ABCD rad = 3.1415927410125732 rad');
  });

  it('a point not wholly read has no reading; NaN and 32-bit extremes; JSON.stringify keeps it all', () => {
    const single = probeToJson(options({ profile, count: 1 }), [0x4049], 1);
    expect(single.profile).toBeNull();
    expect(single.registers).toEqual([
      expect.objectContaining({
        address: 100,
        pair: null,
        points: [expect.objectContaining({ name: 'pi', reading: null })],
      }),
    ]);
    const nan = probeToJson(options({ address: 0, count: 2 }), [0xffff, 0xffff], 1);
    const back = JSON.parse(JSON.stringify(nan));
    expect(back.registers[0].pair).toEqual({
      ABCD: { int32: -1, uint32: 4294967295, float32: 'NaN' },
      CDAB: { int32: -1, uint32: 4294967295, float32: 'NaN' },
      BADC: { int32: -1, uint32: 4294967295, float32: 'NaN' },
      DCBA: { int32: -1, uint32: 4294967295, float32: 'NaN' },
    });
    expect(
      JSON.parse(JSON.stringify(probeToJson(options({ address: 0, count: 2 }), [0x7f80, 0], 1))).registers[0]
        .pair.ABCD.float32,
    ).toBe('Infinity');
  });

  it('coils and discrete inputs: bits, with the bool point reading the bit', () => {
    const json = probeToJson(options({ fn: 'coil', address: 0, count: 2, profile }), [true, false], 3);
    expect(json.registers).toBeUndefined();
    expect(json.bits).toEqual([
      {
        address: 0,
        value: true,
        points: [
          {
            name: 'run',
            equipment: 'pcs',
            device: 'p1',
            type: 'bool',
            order: 'ABCD',
            words: 1,
            scale: 1,
            offset: 0,
            reading: { value: true, bad: false, outOfRange: false },
          },
        ],
      },
      { address: 1, value: false, points: [] },
    ]);
  });
});
