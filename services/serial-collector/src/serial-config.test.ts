import { join } from 'node:path';
import { loadConfig } from '@gridstream/config';
import { describe, expect, it } from 'vitest';
import { serialCollectorConfigSchema } from './config.js';
import { loadSerialConfigFile, parseSerialConfig } from './serial-config.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');

describe('the port file', () => {
  it('names every problem at once, with its place in the file', () => {
    const { config, problems } = parseSerialConfig({
      timeZone: 'Mars/Olympus',
      ports: [
        {
          name: 'a',
          path: '/dev/ttyS0',
          equipment: 'water_meter',
          format: { type: 'delimited', columns: ['t', 'v', 'v'] },
          fields: { flow: { from: 'q' } },
          time: { from: 'when' },
          ignore: ['('],
        },
        {
          name: 'a',
          path: '/dev/ttyS0',
          site: 's',
          equipment: 'water_meter',
          device: 'd',
          deviceFrom: 'id',
          format: { type: 'regex', pattern: '^(\\d+)$' },
          fields: { v: {} },
        },
      ],
    });
    expect(config).toBeUndefined();
    expect(problems).toEqual([
      'timeZone: Mars/Olympus is not a known time zone',
      'ports[0].site: set site on the port or at the top of the file',
      'ports[0]: give exactly one of device (a fixed id) or deviceFrom (the value holding it)',
      'ports[0].ignore[0]: Invalid regular expression: /(/: Unterminated group',
      'ports[0].format.columns: "v" is named twice',
      'ports[0].fields.flow: "q" is not a column',
      'ports[0].time.from: "when" is not a column',
      'ports[1].name: "a" is used twice; give each port its own name',
      'ports[1].path: /dev/ttyS0 is read by another port already; a port can be opened once',
      'ports[1]: give exactly one of device (a fixed id) or deviceFrom (the value holding it)',
      'ports[1].format.pattern: has no named group; name what it captures: (?<flow>[0-9.]+)',
      'ports[1].fields.v: "v" is not a named group of the pattern',
      'ports[1].deviceFrom: "id" is not a named group of the pattern',
    ]);
  });

  it('refuses unknown keys and wrong types by their path', () => {
    const { problems } = parseSerialConfig({
      ports: [
        {
          name: 'a',
          path: '/dev/x',
          baud: 9600,
          parity: 'maybe',
          stopBits: 3,
          equipment: 'Water Meter',
          format: { type: 'csv' },
          fields: {},
        },
      ],
    });
    expect(problems.join('\n')).toMatch(/ports\[0\]\.parity/);
    expect(problems.join('\n')).toMatch(/ports\[0\]\.stopBits/);
    expect(problems.join('\n')).toMatch(/ports\[0\]\.equipment: must be lower snake case/);
    expect(problems.join('\n')).toMatch(/ports\[0\]\.format/);
    expect(problems.join('\n')).toMatch(/ports\[0\]\.fields: name at least one field/);
    expect(problems.join('\n')).toMatch(/Unrecognized key: "baud"/);
  });

  it('fills the defaults: 9600 8N1, line end \\n, UTC, site from the top', () => {
    const { config } = parseSerialConfig({
      site: 'top',
      ports: [
        {
          name: 'a',
          path: '/dev/x',
          equipment: 'm',
          device: 'd',
          format: { type: 'keyvalue' },
          fields: { f: {} },
        },
      ],
    });
    expect(config?.ports[0]).toMatchObject({
      baudRate: 9600,
      dataBits: 8,
      parity: 'none',
      stopBits: 1,
      delimiter: '\n',
      maxLineBytes: 4096,
      checksum: 'none',
      site: 'top',
      timeZone: 'UTC',
      reconnectMaxMs: 5000,
      fields: { f: { scale: 1, offset: 0, optional: false } },
    });
  });

  it('stops the service at start with the file problems (and an unreadable file)', () => {
    expect(() =>
      loadConfig(serialCollectorConfigSchema, { SERIAL_CONFIG: '/nonexistent/serial.yaml' }),
    ).toThrow(/SERIAL_CONFIG: cannot read \/nonexistent\/serial.yaml/);
    expect(() => loadConfig(serialCollectorConfigSchema, {})).toThrow(/SERIAL_CONFIG: required/);
  });

  it('accepts the sample config', () => {
    const { config, problems } = loadSerialConfigFile(join(ROOT, 'sample/serial/collector-local.yaml'));
    expect(problems).toEqual([]);
    expect(config?.ports.length).toBeGreaterThan(0);
  });
});
