import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { certificateInfo } from '@gridstream/opcua';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTestTopics, testKafka, waitFor } from '../../../test/helpers.js';
import { type OpcuaSecurityModeName, startOpcuaSimulator } from '../../simulator/src/opcua-server.js';
import { freePort, type RunningCollector, startCollector, tapSamples, tempDir } from '../test/harness.js';

/**
 * securityMode auto (the default): the collector asks the server for its endpoints and connects with the
 * strongest it can use. Against the project's simulator (node-opcua server) offering None, Sign and
 * SignAndEncrypt with three policies, a None-only one and a SignAndEncrypt-only one.
 */

type Sim = Awaited<ReturnType<typeof startOpcuaSimulator>>;

const T1 = new Date('2024-05-06T07:08:09.123Z');
const USERS = [{ username: 'operator', password: 'pw-123' }];

describe('opcua-collector securityMode auto', () => {
  const dir = tempDir('opcua-security-auto');
  const topics: string[] = [];
  const sims: Sim[] = [];

  async function simulator(name: string, securityModes: OpcuaSecurityModeName[]): Promise<Sim> {
    const sim = await startOpcuaSimulator({
      port: await freePort(),
      pkiDir: join(dir.path, `${name}-pki`),
      updateIntervalMs: 300,
      securityModes,
      users: USERS,
      allowAnonymous: true,
    });
    sims.push(sim);
    return sim;
  }

  /** Sum of gridstream_opcua_security for these labels: 1 while connected with exactly them. */
  const security = (c: RunningCollector, endpoint: string, mode?: string, policy?: string) =>
    c.metricValue('gridstream_opcua_security', {
      endpoint,
      ...(mode ? { mode } : {}),
      ...(policy ? { policy } : {}),
    });

  afterAll(async () => {
    for (const sim of sims) await sim.stop();
    await removeTestTopics(testKafka(), topics);
    dir.remove();
  });

  it('connects with SignAndEncrypt + Aes256_Sha256_RsaPss when the server offers None too, and reads exact values', async () => {
    const sim = await simulator('all-modes', ['None', 'Sign', 'SignAndEncrypt']);
    const fast = { samplingIntervalMs: 100, publishingIntervalMs: 200, bufferMs: 100 };
    const collector = await startCollector({
      pkiDir: dir.path,
      secretEnv: { SIM_PASSWORD: 'pw-123' },
      endpoints: [
        {
          // Nothing about security: the default.
          name: 'auto',
          url: sim.endpointUrl,
          ...fast,
          devices: [
            {
              site: '000001',
              equipment: 'battery',
              device: 'bank1',
              browsePath: '/Objects/Microgrid/Site01/Battery01',
              points: [
                { field: 'soc', browsePath: 'SOC' },
                { field: 'current', browsePath: 'Current' },
                { field: 'fault', browsePath: 'Fault' },
              ],
            },
          ],
        },
        {
          // A password is fine with auto when it goes over SignAndEncrypt.
          name: 'auto-user',
          url: sim.endpointUrl,
          identity: { type: 'username', username: 'operator', passwordEnv: 'SIM_PASSWORD' },
          ...fast,
          devices: [
            {
              site: '000001',
              equipment: 'pcs',
              device: 'pcs1',
              points: [{ field: 'frequency', browsePath: '/Objects/Microgrid/Site01/PCS01/Frequency' }],
            },
          ],
        },
        {
          // Explicit settings are used as they are: no discovery, no upgrade.
          name: 'pinned',
          url: sim.endpointUrl,
          securityMode: 'Sign',
          securityPolicy: 'Basic256Sha256',
          ...fast,
          devices: [
            {
              site: '000001',
              equipment: 'pv',
              device: 'pv1',
              points: [{ field: 'power', browsePath: '/Objects/Microgrid/Site01/PV01/Power' }],
            },
          ],
        },
      ],
    });
    topics.push(collector.topic);
    const tap = await tapSamples(collector.topic);
    try {
      await waitFor(
        () => collector.readiness.report(),
        (r) => r.ready,
        { timeoutMs: 30_000, what: 'all three endpoints connected' },
      );
      // What the connected clients run with (node-opcua's client.securityMode / securityPolicy).
      expect(await security(collector, 'auto', 'SignAndEncrypt', 'Aes256_Sha256_RsaPss')).toBe(1);
      expect(await security(collector, 'auto')).toBe(1);
      expect(await security(collector, 'auto-user', 'SignAndEncrypt', 'Aes256_Sha256_RsaPss')).toBe(1);
      expect(await security(collector, 'auto-user')).toBe(1);
      expect(await security(collector, 'pinned', 'Sign', 'Basic256Sha256')).toBe(1);
      expect(await security(collector, 'pinned')).toBe(1);
      // The server's side: it was shown our application certificate (only a secured channel does that)
      // and, trusting clients automatically, filed it under the thumbprint.
      const thumbprint = certificateInfo(
        join(dir.path, 'collector-pki/own/certs/client_certificate.pem'),
      ).thumbprint.toLowerCase();
      expect(readdirSync(join(dir.path, 'all-modes-pki/trusted/certs')).join('\n')).toContain(thumbprint);

      await waitFor(
        () => new Set(tap.samples.map((s) => s.device)).size,
        (n) => n === 3,
        { timeoutMs: 20_000, what: 'live samples from every endpoint' },
      );
      sim.pause();
      sim.set('Site01/Battery01/SOC', 64.125, { sourceTimestamp: T1 });
      sim.set('Site01/Battery01/Current', -7.5, { sourceTimestamp: T1 });
      sim.set('Site01/Battery01/Fault', true, { sourceTimestamp: T1 });
      sim.set('Site01/PCS01/Frequency', 50.02, { sourceTimestamp: T1 });
      const at = (device: string) => {
        const fields: Record<string, number> = {};
        const flags: Record<string, boolean> = {};
        for (const s of tap.samples) {
          if (s.device !== device || s.ts !== T1.toISOString()) continue;
          Object.assign(fields, s.fields);
          Object.assign(flags, s.flags ?? {});
        }
        return { fields, flags };
      };
      await waitFor(
        () => [at('bank1'), at('pcs1')],
        ([bank, pcs]) =>
          Object.keys(bank!.fields).length === 2 &&
          Object.keys(bank!.flags).length === 1 &&
          Object.keys(pcs!.fields).length === 1,
        { timeoutMs: 20_000, what: 'the values written at T1' },
      );
      expect(at('bank1')).toEqual({ fields: { soc: 64.125, current: -7.5 }, flags: { fault: true } });
      expect(at('pcs1')).toEqual({ fields: { frequency: 50.02 }, flags: {} });
    } finally {
      sim.resume();
      await tap.stop();
      await collector.stop();
    }
    // Gone with the connection: the metric describes only live sessions.
    expect(await security(collector, 'auto')).toBe(0);
  });

  it('connects with None to a server offering only None, and refuses to send a password there', async () => {
    const sim = await simulator('none-only', ['None']);
    const collector = await startCollector({
      pkiDir: dir.path,
      secretEnv: { SIM_PASSWORD: 'pw-123' },
      endpoints: [
        {
          name: 'none-anonymous',
          url: sim.endpointUrl,
          samplingIntervalMs: 100,
          publishingIntervalMs: 200,
          bufferMs: 100,
          devices: [
            {
              site: '000002',
              equipment: 'battery',
              device: 'bank2',
              points: [{ field: 'soc', browsePath: '/Objects/Microgrid/Site01/Battery02/SOC' }],
            },
          ],
        },
        {
          name: 'none-password',
          url: sim.endpointUrl,
          identity: { type: 'username', username: 'operator', passwordEnv: 'SIM_PASSWORD' },
          devices: [
            {
              site: '000002',
              equipment: 'ev_charger',
              device: 'ev1',
              points: [{ field: 'power', browsePath: '/Objects/Microgrid/Site01/EVCharger01/Power' }],
            },
          ],
        },
      ],
    });
    topics.push(collector.topic);
    const tap = await tapSamples(collector.topic);
    try {
      await waitFor(
        () => tap.samples.filter((s) => s.device === 'bank2').length,
        (n) => n >= 2,
        { timeoutMs: 30_000, what: 'samples over the None endpoint' },
      );
      expect(await security(collector, 'none-anonymous', 'None', 'None')).toBe(1);
      await waitFor(
        () => collector.metricValue('gridstream_opcua_connect_failures_total', { endpoint: 'none-password' }),
        (n) => n >= 1,
        { timeoutMs: 20_000, what: 'the refused password endpoint to be counted' },
      );
      expect(collector.readiness.report().checks).toMatchObject({
        'opcua:none-anonymous': { ok: true },
        'opcua:none-password': { ok: false },
      });
      expect(await security(collector, 'none-password')).toBe(0);
      // It never logged in: the server saw no session for it.
      expect(sim.sessionCount()).toBe(1);
      expect(tap.samples.some((s) => s.device === 'ev1')).toBe(false);
    } finally {
      await tap.stop();
      await collector.stop();
    }
  });

  it('finds the endpoints of a server that offers SignAndEncrypt only (discovery over an unsecured channel)', async () => {
    const sim = await simulator('encrypt-only', ['SignAndEncrypt']);
    const collector = await startCollector({
      pkiDir: dir.path,
      endpoints: [
        {
          name: 'encrypt-only',
          url: sim.endpointUrl,
          samplingIntervalMs: 100,
          publishingIntervalMs: 200,
          bufferMs: 100,
          devices: [
            {
              site: '000003',
              equipment: 'pv',
              device: 'pv3',
              points: [{ field: 'power', browsePath: '/Objects/Microgrid/Site01/PV01/Power' }],
            },
          ],
        },
      ],
    });
    topics.push(collector.topic);
    const tap = await tapSamples(collector.topic);
    try {
      await waitFor(
        () => tap.samples.length,
        (n) => n >= 2,
        { timeoutMs: 30_000, what: 'samples from the SignAndEncrypt-only server' },
      );
      expect(await security(collector, 'encrypt-only', 'SignAndEncrypt', 'Aes256_Sha256_RsaPss')).toBe(1);
    } finally {
      await tap.stop();
      await collector.stop();
    }
  });
});
