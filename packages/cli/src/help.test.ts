import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '..', 'bin', 'gridstream.js');

async function gridstream(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** The built command through its bin, as `npx gridstream` runs it (`make test` builds first). */
describe('gridstream --help', () => {
  const commands = [
    [],
    ['topics'],
    ['topics', 'lag'],
    ['modbus'],
    ['modbus', 'probe'],
    ['opcua'],
    ['glue'],
    ['query'],
    ['export'],
    ['archive'],
    ['archive', 'verify'],
    ['influx'],
    ['import'],
    ['spool'],
    ['parse'],
    ['forecast'],
    ['forecast', 'backtest'],
  ];
  for (const command of commands) {
    it(`gridstream ${[...command, '--help'].join(' ')} prints its usage and exits 0`, async () => {
      const { code, stdout } = await gridstream(...command, '--help');
      expect(code).toBe(0);
      expect(stdout).toMatch(/gridstream/);
    }, 30_000);
  }

  it('an unknown command exits 2 naming it, Object.prototype keys included', async () => {
    for (const name of ['frobnicate', 'constructor', '__proto__']) {
      const { code, stderr } = await gridstream(name);
      expect(code).toBe(2);
      expect(stderr).toContain(`unknown command: ${name}`);
    }
    // Three CLI starts of ~2 s each on a loaded 2-core machine: vitest's default 5 s is not enough.
  }, 60_000);
});
