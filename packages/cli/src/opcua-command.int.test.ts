import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpcuaSimulator } from '../../../services/simulator/src/opcua-server.js';
import { runOpcuaCommand } from './opcua-command.js';

async function freePort(): Promise<number> {
  return await new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function run(...argv: string[]): Promise<{ code: number; text: string }> {
  let text = '';
  const code = await runOpcuaCommand(argv, {
    write: (s) => {
      text += s;
    },
  });
  return { code, text };
}

describe('gridstream opcua', () => {
  const dir = mkdtempSync(join(tmpdir(), 'opcua-cli-'));
  const pki = join(dir, 'pki');
  let sim: Awaited<ReturnType<typeof startOpcuaSimulator>>;

  beforeAll(async () => {
    sim = await startOpcuaSimulator({
      port: await freePort(),
      pkiDir: join(dir, 'sim-pki'),
      users: [{ username: 'operator', password: 'pw-123' }],
      allowAnonymous: true,
    });
  });

  afterAll(async () => {
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('browse prints the tree with NodeIds, classes, data types and values', async () => {
    const { code, text } = await run('browse', sim.endpointUrl, '--depth', '4', '--pki', pki);
    expect(code).toBe(0);
    expect(text).toMatch(/^Objects {2}\(ns=0;i=85\) {2}Object\n/);
    expect(text).toMatch(/Server {2}\(ns=0;i=2253\) {2}Object \(standard node; --all to expand\)/);
    expect(text).toMatch(/└─ 2:Microgrid {2}\(ns=2;s=Microgrid\) {2}Object/);
    expect(text).toMatch(
      /2:SOC {2}\(ns=2;s=Microgrid\/Site01\/Battery01\/SOC\) {2}Variable {2}Double = [\d.]+ @ \d{4}-/,
    );
    expect(text).toMatch(
      /2:Fault {2}\(ns=2;s=Microgrid\/Site01\/PCS01\/Fault\) {2}Variable {2}Boolean = (true|false)/,
    );
  });

  it('browse --json: the same tree as nested objects, stdout holding only the document', async () => {
    let text = '';
    let errText = '';
    const code = await runOpcuaCommand(
      ['browse', sim.endpointUrl, '--depth', '4', '--pki', pki, '--json'],
      { write: (s) => (text += s) },
      { write: (s) => (errText += s) },
    );
    expect(errText).toBe('');
    expect(code).toBe(0);
    expect(text.split('\n')).toHaveLength(2); // one document, one line
    interface Node {
      nodeId: string;
      browseName: string;
      displayName: string;
      nodeClass: string;
      dataType?: string;
      value?: unknown;
      status?: string;
      sourceTimestamp?: string;
      collapsed?: string;
      children: Node[];
    }
    const root: Node = JSON.parse(text);
    const find = (n: Node, id: string): Node | undefined =>
      n.nodeId === id ? n : n.children.map((c) => find(c, id)).find((x) => x !== undefined);
    // The nodes the tree test checks.
    expect(root).toMatchObject({
      nodeId: 'ns=0;i=85',
      browseName: 'Objects',
      displayName: 'Objects',
      nodeClass: 'Object',
    });
    expect(root.children.find((c) => c.browseName === 'Server')).toEqual({
      nodeId: 'ns=0;i=2253',
      browseName: 'Server',
      displayName: 'Server',
      nodeClass: 'Object',
      collapsed: 'standard node',
      children: [],
    });
    expect(root.children.at(-1)).toMatchObject({
      nodeId: 'ns=2;s=Microgrid',
      browseName: '2:Microgrid',
      displayName: 'Microgrid',
      nodeClass: 'Object',
    });
    const soc = find(root, 'ns=2;s=Microgrid/Site01/Battery01/SOC');
    expect(soc).toEqual({
      nodeId: 'ns=2;s=Microgrid/Site01/Battery01/SOC',
      browseName: '2:SOC',
      displayName: 'SOC',
      nodeClass: 'Variable',
      dataType: 'Double',
      value: expect.any(Number),
      status: 'Good',
      sourceTimestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      children: [],
    });
    const fault = find(root, 'ns=2;s=Microgrid/Site01/PCS01/Fault');
    expect(fault).toMatchObject({
      browseName: '2:Fault',
      nodeClass: 'Variable',
      dataType: 'Boolean',
      status: 'Good',
    });
    expect(typeof fault?.value).toBe('boolean');

    // A failure: nothing on stdout, the reason on stderr, exit 1 as without --json.
    const closed = await freePort();
    let refusedOut = '';
    let refusedErr = '';
    expect(
      await runOpcuaCommand(
        ['browse', `opc.tcp://127.0.0.1:${closed}`, '--pki', pki, '--json'],
        { write: (s) => (refusedOut += s) },
        { write: (s) => (refusedErr += s) },
      ),
    ).toBe(1);
    expect(refusedOut).toBe('');
    expect(refusedErr).toMatch(/connection refused/);
  });

  it('browse from a browse path, over SignAndEncrypt with a password', async () => {
    process.env.GS_TEST_OPCUA_PW = 'pw-123';
    const { code, text } = await run(
      'opcua',
      'browse',
      sim.endpointUrl,
      '--start',
      '/Objects/Microgrid/Site01/EVCharger01',
      '--depth',
      '1',
      '--security',
      'SignAndEncrypt',
      '--policy',
      'Basic256Sha256',
      '--trust-server',
      '--user',
      'operator',
      '--password-env',
      'GS_TEST_OPCUA_PW',
      '--pki',
      pki,
    );
    expect(text).toMatch(/^2:EVCharger01 {2}\(ns=2;s=Microgrid\/Site01\/EVCharger01\) {2}Object\n/);
    expect(text).toMatch(/└─ 2:Fault /);
    expect(code).toBe(0);
  });

  it('says clearly why it cannot browse', async () => {
    const closed = await freePort();
    const refused = await run('browse', `opc.tcp://127.0.0.1:${closed}`, '--pki', pki);
    expect(refused).toEqual({ code: 1, text: expect.stringMatching(/connection refused/) });

    process.env.GS_TEST_OPCUA_PW = 'wrong';
    const login = await run(
      'browse',
      sim.endpointUrl,
      '--security',
      'SignAndEncrypt',
      '--trust-server',
      '--user',
      'operator',
      '--password-env',
      'GS_TEST_OPCUA_PW',
      '--pki',
      pki,
    );
    expect(login).toEqual({ code: 1, text: expect.stringMatching(/login refused/) });

    const untrusted = await run(
      'browse',
      sim.endpointUrl,
      '--security',
      'Sign',
      '--pki',
      join(dir, 'fresh-pki'),
    );
    expect(untrusted.code).toBe(1);
    expect(untrusted.text).toMatch(
      /we do not trust the server's certificate \(BadCertificateUntrusted\): it was saved in .*rejected; move it to .*trusted/,
    );

    const deprecated = await run(
      'browse',
      sim.endpointUrl,
      '--security',
      'SignAndEncrypt',
      '--policy',
      'Basic256',
    );
    expect(deprecated.code).toBe(2);
    expect(deprecated.text).toMatch(/Basic256 is refused/);

    expect((await run('browse', 'http://example.com')).code).toBe(2);
    expect((await run('frobnicate')).code).toBe(2);
  });

  it('cert prints the persistent certificate thumbprint and where it lives', async () => {
    const first = await run('cert', '--pki', pki);
    const second = await run('cert', '--pki', pki);
    expect(first.code).toBe(0);
    expect(first.text).toMatch(/^thumbprint \(SHA-1\): [0-9A-F]{40}\n/);
    expect(first.text).toContain(join(pki, 'own', 'certs', 'client_certificate.pem'));
    expect(first.text).toContain('application URI:    urn:gridstream:opcua-collector');
    expect(second.text).toBe(first.text);
  });
});
