import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProfile, parseProfileYaml } from './load-profile.js';
import { ProfileError, parseProfile } from './profile-schema.js';

const HEAD = `name: meter-1
site: site-a
unitId: 3
equipment: meter
device: m1
`;

function yaml(points: string, head = HEAD): string {
  return `${head}points:\n${points}`;
}

function errorOf(fn: () => unknown): ProfileError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ProfileError) return error;
    throw error;
  }
  throw new Error('expected a ProfileError');
}

describe('parseProfile', () => {
  it('applies device defaults and resolves every point', () => {
    const { profile, warnings } = parseProfileYaml(
      yaml(`  - { name: p, function: holding, address: 10, type: float32, unit: kW, range: { min: 0, max: 100 } }
  - { name: alarm, function: coil, address: 0, type: bool }
`),
    );
    expect(warnings).toEqual([]);
    expect(profile).toMatchObject({
      name: 'meter-1',
      site: 'site-a',
      unitId: 3,
      pollIntervalMs: 1000,
      timeoutMs: 300,
      retries: 1,
      maxRegistersPerRead: 125,
      maxBitsPerRead: 2000,
      maxGap: 10,
    });
    expect(profile.points[0]).toEqual({
      name: 'p',
      function: 'holding',
      address: 10,
      type: 'float32',
      words: 2,
      order: 'ABCD',
      scale: 1,
      offset: 0,
      unit: 'kW',
      range: { min: 0, max: 100 },
      equipment: 'meter',
      device: 'm1',
    });
    expect(profile.points[1]).toMatchObject({ type: 'bool', words: 1, function: 'coil' });
  });

  it('lets points override equipment, device, rack and order; numbers become ids', () => {
    const { profile } = parseProfileYaml(
      yaml(
        `  - { name: a, function: input, address: 0, type: int32 }
  - { name: b, function: input, address: 2, type: int32, order: ABCD, equipment: pcs, device: 7, rack: 2 }
  - { name: c, function: input, address: 4, type: int32, byteOrder: little }
  - { name: d, function: input, address: 6, type: int32, wordOrder: big }
`,
        `${HEAD}order: CDAB\n`,
      ),
    );
    expect(profile.points.map((p) => p.order)).toEqual(['CDAB', 'ABCD', 'DCBA', 'ABCD']);
    expect(profile.points[1]).toMatchObject({ equipment: 'pcs', device: '7', rack: '2' });
  });

  it('maps wordOrder/byteOrder onto the four orders', () => {
    const head = (w: string, b: string) => `${HEAD}wordOrder: ${w}\nbyteOrder: ${b}\n`;
    const point = '  - { name: a, function: input, address: 0, type: float32 }\n';
    expect(parseProfileYaml(yaml(point, head('big', 'big'))).profile.points[0]!.order).toBe('ABCD');
    expect(parseProfileYaml(yaml(point, head('little', 'big'))).profile.points[0]!.order).toBe('CDAB');
    expect(parseProfileYaml(yaml(point, head('big', 'little'))).profile.points[0]!.order).toBe('BADC');
    expect(parseProfileYaml(yaml(point, head('little', 'little'))).profile.points[0]!.order).toBe('DCBA');
  });

  it('names the file, the line, the point (field and register) and the key in errors', () => {
    const text = yaml(`  - { name: ok, function: input, address: 0, type: uint16 }
  - { name: soc, function: input, address: 2, type: uint16, scale: 'x' }
`);
    const error = errorOf(() => parseProfileYaml(text, 'profiles/site.yaml'));
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatchObject({
      path: ['points', 1, 'scale'],
      where: 'points[1] (soc, input 2): scale',
      line: 8,
    });
    expect(error.message).toContain('profiles/site.yaml:8: points[1] (soc, input 2): scale:');
  });

  it('reports a missing key at the line of its point', () => {
    const error = errorOf(() =>
      parseProfileYaml(yaml('  - { name: soc, function: input, type: uint16 }\n'), 'f.yaml'),
    );
    expect(error.issues[0]).toMatchObject({ where: 'points[0] (soc, input ?): address', line: 7 });
  });

  it('lists every problem at once', () => {
    const error = errorOf(() =>
      parseProfileYaml(
        yaml(`  - { name: a, function: holding, address: 0, type: string }
  - { name: b, function: holding, address: 1, type: bit, bit: 16 }
  - { name: c, function: holding, address: 65535, type: float32 }
  - { name: d, function: coil, address: 0, type: uint16 }
  - { name: e, function: holding, address: 9, type: bool }
  - { name: f, function: holding, address: 20, type: bit }
  - { name: g, function: holding, address: 21, type: uint16, bit: 3, length: 2 }
  - { name: h, function: holding, address: 30, type: bit, bit: 1, scale: 2 }
`),
      ),
    );
    const messages = error.issues.map((i) => `${i.where}: ${i.message}`);
    expect(messages).toEqual([
      'points[1] (b, holding 1): bit: bit must be 0..15 (0 = least significant bit of the register)',
      'points[0] (a, holding 0): length: a string needs length (registers)',
      'points[2] (c, holding 65535): address: address 65535 + 2 register(s) runs past the end of the address space (65535)',
      'points[3] (d, coil 0): type: a coil is a single bit: its type must be bool',
      'points[4] (e, holding 9): type: bool is for coil/discrete_input; for a flag inside a holding register use type bit with bit: 0..15',
      'points[5] (f, holding 20): bit: a bit point needs bit: 0..15',
      'points[6] (g, holding 21): bit: bit only applies to type bit, not uint16',
      'points[6] (g, holding 21): length: length only applies to type string, not uint16',
      'points[7] (h, holding 30): scale: scale has no meaning for type bit',
    ]);
  });

  it('refuses overlapping registers but allows bit flags inside a read register', () => {
    const error = errorOf(() =>
      parseProfileYaml(
        yaml(`  - { name: a, function: holding, address: 10, type: float32 }
  - { name: b, function: holding, address: 11, type: uint16 }
  - { name: c, function: input, address: 11, type: uint16 }
`),
      ),
    );
    expect(error.issues.map((i) => i.message)).toEqual(['holding 11 is already used by points[0] (a at 10)']);
    const { profile } = parseProfileYaml(
      yaml(`  - { name: status, function: holding, address: 10, type: uint16 }
  - { name: run, function: holding, address: 10, type: bit, bit: 0 }
  - { name: fault, function: holding, address: 10, type: bit, bit: 1 }
`),
    );
    expect(profile.points).toHaveLength(3);
    const twice = errorOf(() =>
      parseProfileYaml(
        yaml(`  - { name: run, function: holding, address: 10, type: bit, bit: 0 }
  - { name: run2, function: holding, address: 10, type: bit, bit: 0 }
`),
      ),
    );
    expect(twice.issues[0]!.message).toBe('bit 0 of holding 10 is already points[0]');
  });

  it('refuses the same field name twice in one record, allows it in another rack', () => {
    const error = errorOf(() =>
      parseProfileYaml(
        yaml(`  - { name: soc, function: input, address: 0, type: uint16 }
  - { name: soc, function: input, address: 1, type: uint16 }
`),
      ),
    );
    expect(error.issues[0]!.message).toContain('soc is already points[0] of the same record');
    const { profile } = parseProfileYaml(
      yaml(`  - { name: soc, function: input, address: 0, type: uint16 }
  - { name: soc, function: input, address: 1, type: uint16, rack: 1 }
`),
    );
    expect(profile.points.map((p) => p.rack)).toEqual([undefined, '1']);
  });

  it('refuses unknown keys, limits above the protocol, a zero scale, and a point without equipment', () => {
    const error = errorOf(() =>
      parseProfileYaml(
        yaml(
          `  - { name: a, function: input, address: 0, type: uint16, sacle: 0.1 }
  - { name: b, function: input, address: 1, type: uint16, scale: 0 }
  - { name: c, function: input, address: 2, type: uint16, range: { min: 5, max: 1 } }
`,
          'name: x\nsite: s\nunitId: 1\nmaxRegistersPerRead: 126\n',
        ),
      ),
    );
    const where = error.issues.map((i) => i.where);
    expect(where).toContain('maxRegistersPerRead');
    expect(where).toContain('points[0] (a, input 0)');
    expect(where).toContain('points[1] (b, input 1): scale');
    expect(where).toContain('points[2] (c, input 2): range');
    const noEquipment = errorOf(() =>
      parseProfileYaml(
        'name: x\nsite: s\nunitId: 1\npoints:\n  - { name: a, function: input, address: 0, type: uint16 }\n',
      ),
    );
    expect(noEquipment.issues.map((i) => i.where)).toEqual([
      'points[0] (a, input 0): equipment',
      'points[0] (a, input 0): device',
    ]);
  });

  it('refuses a string longer than one read', () => {
    const error = errorOf(() =>
      parseProfileYaml(yaml('  - { name: s, function: holding, address: 0, type: string, length: 126 }\n')),
    );
    expect(error.issues[0]!.message).toBe('126 registers do not fit one read (maxRegistersPerRead 125)');
  });

  it('warns when timeouts and retries can outlast the poll interval', () => {
    const { warnings } = parseProfileYaml(
      yaml(
        '  - { name: a, function: input, address: 0, type: uint16 }\n',
        `${HEAD}pollIntervalMs: 1000\ntimeoutMs: 600\nretries: 1\n`,
      ),
    );
    expect(warnings[0]).toContain('= 1200 ms is not below pollIntervalMs 1000');
  });

  it('reports YAML syntax errors and duplicate keys with their line', () => {
    const dup = errorOf(() => parseProfileYaml(`${HEAD}unitId: 4\npoints: []\n`, 'dup.yaml'));
    expect(dup.issues[0]).toMatchObject({ where: 'YAML', line: 6 });
    const broken = errorOf(() => parseProfileYaml('name: [unclosed\n', 'bad.yaml'));
    expect(broken.message).toContain('bad.yaml');
  });

  it('accepts a plain object (no YAML) and hex addresses in YAML', () => {
    const { profile } = parseProfile({
      name: 'x',
      site: 's',
      unitId: 1,
      equipment: 'pv',
      device: 'inv',
      points: [{ name: 'p', function: 'input', address: 0, type: 'uint16' }],
    });
    expect(profile.points[0]!.equipment).toBe('pv');
    const hex = parseProfileYaml(yaml('  - { name: a, function: input, address: 0x100, type: uint16 }\n'));
    expect(hex.profile.points[0]!.address).toBe(256);
  });
});

describe('loadProfile', () => {
  it('reads a file and names it in errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gs-profile-'));
    const good = join(dir, 'good.yaml');
    writeFileSync(good, yaml('  - { name: a, function: input, address: 0, type: uint16 }\n'));
    expect((await loadProfile(good)).profile.points).toHaveLength(1);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, yaml('  - { name: a, function: input, address: -1, type: uint16 }\n'));
    await expect(loadProfile(bad)).rejects.toThrow(
      `${bad}:7: points[0] (a, input -1): address: must be 0..65535`,
    );
  });
});
