import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '@gridstream/config';
import { describe, expect, it } from 'vitest';
import { makeOpcuaCollectorConfigSchema } from './config.js';
import { parseOpcuaConfig } from './opcua-config.js';

const base = {
  url: 'opc.tcp://plc.local:4840',
  devices: [
    {
      site: '000001',
      equipment: 'battery',
      device: 'bank1',
      browsePath: '/Objects/Microgrid/Site01/Battery01',
      points: [
        { field: 'soc', browsePath: 'SOC', unit: '%' },
        { field: 'voltage', nodeId: 'ns=2;s=Site01/Battery01/Voltage' },
        { field: 'fault', relativePath: '/Objects/2:Microgrid.2:Fault' },
      ],
    },
  ],
};

function parse(endpoint: object, env: Record<string, string> = {}) {
  return parseOpcuaConfig(
    { endpoints: [{ ...base, ...endpoint }] },
    { path: 'test.yaml', env, baseDir: tmpdir() },
  );
}

describe('OPC UA endpoint file', () => {
  it('fills defaults and joins device-relative browse paths', () => {
    const { config, problems } = parse({});
    expect(problems).toEqual([]);
    const e = config!.endpoints[0]!;
    expect(e).toMatchObject({
      name: 'plc.local_4840',
      securityMode: 'auto',
      securityPolicy: 'auto',
      allowPasswordOnUnsecuredChannel: false,
      identity: { type: 'anonymous' },
      mode: 'subscription',
      samplingIntervalMs: 1000,
      queueSize: 10,
      bufferMs: 200,
      staleAfterMs: 30_000,
    });
    expect(e.devices[0]!.points.map((p) => p.ref)).toEqual([
      { kind: 'browsePath', path: '/Objects/Microgrid/Site01/Battery01/SOC' },
      { kind: 'nodeId', nodeId: 'ns=2;s=Site01/Battery01/Voltage' },
      { kind: 'relativePath', path: '/Objects/2:Microgrid.2:Fault' },
    ]);
  });

  it('refuses the deprecated Basic128Rsa15 and Basic256 policies with a reason', () => {
    for (const policy of ['Basic128Rsa15', 'Basic256']) {
      const { problems } = parse({ securityMode: 'SignAndEncrypt', securityPolicy: policy });
      expect(problems.join('\n')).toMatch(
        new RegExp(`securityPolicy: security policy ${policy} is refused: .*deprecated`),
      );
    }
  });

  it('needs a policy for Sign/SignAndEncrypt and none for None or auto', () => {
    expect(parse({ securityMode: 'Sign' }).problems).toEqual([
      'endpoints[0].securityPolicy: securityMode Sign needs a policy, e.g. Basic256Sha256',
    ]);
    expect(parse({ securityPolicy: 'Basic256Sha256' }).problems).toEqual([
      'endpoints[0].securityPolicy: Basic256Sha256 needs securityMode Sign or SignAndEncrypt (securityMode auto, the default, chooses the policy too)',
    ]);
    expect(parse({ securityMode: 'None', securityPolicy: 'Basic256Sha256' }).problems[0]).toMatch(
      /needs securityMode Sign or SignAndEncrypt/,
    );
    expect(parse({ securityMode: 'secure' }).problems).toEqual([
      'endpoints[0].securityMode: must be one of auto, None, Sign, SignAndEncrypt',
    ]);
  });

  it('keeps an explicit securityMode and securityPolicy exactly as written', () => {
    const pinned = parse({ securityMode: 'Sign', securityPolicy: 'Aes128_Sha256_RsaOaep' });
    expect(pinned.config!.endpoints[0]).toMatchObject({
      securityMode: 'Sign',
      securityPolicy: 'Aes128_Sha256_RsaOaep',
    });
    expect(parse({ securityMode: 'None' }).config!.endpoints[0]).toMatchObject({
      securityMode: 'None',
      securityPolicy: 'None',
    });
    // securityPolicy None alone has always meant securityMode None: still so, not auto.
    expect(parse({ securityPolicy: 'None' }).config!.endpoints[0]).toMatchObject({
      securityMode: 'None',
      securityPolicy: 'None',
    });
    expect(parse({ securityMode: 'auto', securityPolicy: 'None' }).problems).toEqual([
      'endpoints[0].securityPolicy: None goes with securityMode None, not auto',
    ]);
  });

  it('reads the password from the named variable or file, never from the config file', () => {
    const identity = { type: 'username', username: 'op', passwordEnv: 'PLC_PW' };
    const secured = { securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256' };
    const ok = parse({ ...secured, identity }, { PLC_PW: 's3cret' });
    expect(ok.config!.endpoints[0]!.identity).toEqual({
      type: 'username',
      username: 'op',
      password: 's3cret',
    });
    expect(parse({ ...secured, identity }).problems).toEqual([
      'endpoints[0].identity.passwordEnv: PLC_PW is not set',
    ]);

    const dir = mkdtempSync(join(tmpdir(), 'opcua-cfg-'));
    writeFileSync(join(dir, 'pw'), 'from-file\n');
    const viaFileVar = parse({ ...secured, identity }, { PLC_PW_FILE: join(dir, 'pw') });
    expect(viaFileVar.config!.endpoints[0]!.identity).toMatchObject({ password: 'from-file' });
    const viaFile = parse({
      ...secured,
      identity: { type: 'username', username: 'op', passwordFile: join(dir, 'pw') },
    });
    expect(viaFile.config!.endpoints[0]!.identity).toMatchObject({ password: 'from-file' });

    const inline = parse({ ...secured, identity: { type: 'username', username: 'op', password: 'oops' } });
    expect(inline.problems.join('\n')).toMatch(
      /identity.password: passwords do not belong in the config file/,
    );
    expect(inline.problems.join('\n')).not.toMatch(/oops/);
  });

  it('refuses a password on an unsecured channel unless told the server encrypts it', () => {
    const identity = { type: 'username', username: 'op', passwordEnv: 'PW' };
    const none = { securityMode: 'None', identity };
    expect(parse(none, { PW: 'x' }).problems[0]).toMatch(/may travel unencrypted/);
    expect(parse({ ...none, allowPasswordOnUnsecuredChannel: true }, { PW: 'x' }).problems).toEqual([]);
    // With auto the server's endpoints decide, at connect (endpoint-choice.test.ts).
    const auto = parse({ identity }, { PW: 'x' });
    expect(auto.problems).toEqual([]);
    expect(auto.config!.endpoints[0]).toMatchObject({
      securityMode: 'auto',
      allowPasswordOnUnsecuredChannel: false,
    });
  });

  it('names every bad point, device and duplicate field', () => {
    const { problems } = parse({
      devices: [
        {
          site: '000001',
          equipment: 'Battery',
          device: 'bank1',
          points: [
            { field: 'soc', browsePath: 'SOC' },
            { field: 'soc', nodeId: 'ns=2;i=5' },
            { field: 'v', nodeId: 'ns=2;i=6', browsePath: '/Objects/X' },
          ],
        },
      ],
    });
    expect(problems).toEqual([
      'endpoints[0].devices[0].equipment: must be lower snake case',
      'endpoints[0].devices[0].points[2]: give exactly one of nodeId, browsePath, relativePath',
    ]);
    const second = parse({
      devices: [
        {
          ...base.devices[0]!,
          browsePath: undefined,
          points: [
            { field: 'soc', browsePath: 'SOC' },
            { field: 'soc', nodeId: 'i=1' },
          ],
        },
      ],
    });
    expect(second.problems).toEqual([
      'endpoints[0].devices[0].points[0]: relative browse path "SOC" needs the device\'s browsePath',
      'endpoints[0].devices[0].points[1].field: 000001/battery/bank1 field "soc" is already read by endpoints[0].devices[0].points[0]',
    ]);
  });

  it('turns file problems into a ConfigError naming OPCUA_CONFIG (exit 78 at start)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'opcua-cfg-'));
    const file = join(dir, 'opcua.yaml');
    writeFileSync(file, 'endpoints:\n  - url: http://wrong\n    devices: []\n');
    const schema = makeOpcuaCollectorConfigSchema({});
    try {
      loadConfig(schema, { OPCUA_CONFIG: file });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.map((p) => p.variable)).toEqual([
        'OPCUA_CONFIG',
        'OPCUA_CONFIG',
      ]);
      expect((error as Error).message).toMatch(/endpoints\[0\]\.url: must be opc\.tcp/);
    }
    writeFileSync(file, JSON.stringify({ endpoints: [base] }));
    const cfg = loadConfig(schema, { OPCUA_CONFIG: file });
    expect(cfg.OPCUA_CONFIG.endpoints).toHaveLength(1);
    expect(cfg.HEALTH_PORT).toBe(9105);
  });
});
