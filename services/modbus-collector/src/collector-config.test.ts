import { join } from 'node:path';
import { createLogger } from '@gridstream/runtime';
import { describe, expect, it } from 'vitest';
import { CollectorConfigError, parseCollectorConfig } from './collector-config.js';
import { resolveDevices } from './collector-service.js';

const ESS = join(import.meta.dirname, '../../../sample/profiles/ess-sionyu.yaml');
const logger = createLogger({ service: 'test', level: 'silent' });

describe('collector config', () => {
  it('parses the three transports with their defaults; profile paths become absolute', () => {
    const cfg = parseCollectorConfig(
      `site: s1
connections:
  - { transport: tcp, host: 10.0.0.5, devices: [{ profile: ess.yaml }] }
  - { transport: rtu-over-tcp, host: 10.0.0.6, port: 4001, devices: [{ profile: ess.yaml, unitId: 3 }] }
  - transport: rtu
    path: /dev/ttyUSB0
    baudRate: 19200
    parity: even
    devices: [{ profile: ../p/meter.yaml, unitId: 4 }, { profile: ../p/meter.yaml, unitId: 5 }]
`,
      '/etc/gridstream/modbus.yaml',
    );
    const [tcp, gw, rtu] = cfg.connections;
    expect(tcp).toMatchObject({ transport: 'tcp', port: 502, connectTimeoutMs: 3000 });
    expect(tcp?.devices[0]?.profile).toBe('/etc/gridstream/ess.yaml');
    expect(gw).toMatchObject({ transport: 'rtu-over-tcp', port: 4001 });
    expect(rtu).toMatchObject({
      transport: 'rtu',
      baudRate: 19200,
      parity: 'even',
      dataBits: 8,
      stopBits: 1,
    });
    expect(rtu?.devices[1]?.profile).toBe('/etc/p/meter.yaml');
  });

  it('names every problem: unknown transport keys, missing port, the same line twice', () => {
    const bad = () =>
      parseCollectorConfig(
        `connections:
  - { transport: rtu-over-tcp, host: gw, devices: [{ profile: a.yaml }] }
  - { transport: rtu, path: /dev/ttyS0, parity: maybe, devices: [{ profile: a.yaml }] }
  - { transport: rtu, path: /dev/ttyS0, devices: [{ profile: a.yaml }] }
  - { transport: tcp, host: h, baud: 9600, devices: [{ profile: a.yaml }] }
`,
        'c.yaml',
      );
    expect(bad).toThrow(CollectorConfigError);
    try {
      bad();
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toMatch(/connections\.0\.port/);
      expect(message).toMatch(/connections\.1\.parity/);
      expect(message).toMatch(/connections\.3/);
    }
  });

  it('applies overrides; breaker cool-down defaults to one interval alone on a line, five when shared', async () => {
    const cfg = parseCollectorConfig(
      `site: override-site
connections:
  - { transport: tcp, host: a, devices: [{ profile: ${ESS}, pollIntervalMs: 2000, timeoutMs: 500, retries: 2 }] }
  - transport: tcp
    host: b
    devices:
      - { profile: ${ESS}, unitId: 1, name: one }
      - { profile: ${ESS}, unitId: 2, name: two, breaker: { failureThreshold: 5, coolDownMs: 30000 } }
`,
      '/tmp/x.yaml',
    );
    const devices = await resolveDevices(cfg.connections, cfg.site, logger);
    expect(devices.map((d) => d.name)).toEqual(['ess-sionyu-1', 'one', 'two']);
    expect(devices[0]?.profile).toMatchObject({
      site: 'override-site',
      pollIntervalMs: 2000,
      timeoutMs: 500,
      retries: 2,
    });
    expect(devices[0]?.breaker).toEqual({ failureThreshold: 3, coolDownMs: 2000 });
    expect(devices[1]?.breaker).toEqual({ failureThreshold: 3, coolDownMs: 5000 });
    expect(devices[2]?.breaker).toEqual({ failureThreshold: 5, coolDownMs: 30000 });
    expect(devices[2]?.profile.unitId).toBe(2);
  });

  it('refuses duplicate device names, a timeout not below the interval and a missing profile, all at once', async () => {
    const cfg = parseCollectorConfig(
      `connections:
  - transport: tcp
    host: a
    devices:
      - { profile: ${ESS}, name: x }
      - { profile: ${ESS}, name: x, unitId: 2, pollIntervalMs: 100, timeoutMs: 100 }
      - { profile: /nonexistent/profile.yaml }
`,
      '/tmp/x.yaml',
    );
    await expect(resolveDevices(cfg.connections, undefined, logger)).rejects.toThrow(
      /(?=[\s\S]*used twice)(?=[\s\S]*timeoutMs 100 must be below pollIntervalMs 100)(?=[\s\S]*nonexistent)/,
    );
  });
});
