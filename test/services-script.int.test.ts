import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, sleep } from '@gridstream/testkit';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * deploy/local/services.sh (what `make demo` runs services with) after a kill -9: the pid file is left
 * behind; `status` must say stopped and `start` must start it again and report the NEW pid.
 */
const run = promisify(execFile);
const home = mkdtempSync(join(tmpdir(), 'gs-services-'));
const script = (...args: string[]) =>
  run(join(REPO_ROOT, 'deploy', 'local', 'services.sh'), args, {
    env: { ...process.env, GRIDSTREAM_HOME: home, SIM_AMQP: 'false', HEALTH_PORT: '0' },
    timeout: 60_000,
  });
const pidFile = join(home, 'run', 'simulator.pid');

afterAll(async () => {
  await script('stop', 'simulator').catch(() => undefined);
  rmSync(home, { recursive: true, force: true });
});

describe('services.sh after a kill -9', () => {
  it('reports the killed service as stopped and starts it again under its new pid', async () => {
    await script('start', 'simulator');
    await sleep(1_000);
    const first = Number(readFileSync(pidFile, 'utf8'));
    process.kill(first, 'SIGKILL');
    await sleep(500);
    expect((await script('status')).stdout).toContain('simulator: stopped');
    const { stderr } = await script('start', 'simulator');
    await sleep(500);
    const second = Number(readFileSync(pidFile, 'utf8'));
    expect(second).not.toBe(first);
    expect(stderr).toContain(`pid ${first} in its pid file is gone`);
    expect(stderr).toContain(`simulator started (pid ${second}`);
    expect((await script('status')).stdout).toContain(`simulator: running (pid ${second})`);
  });
});
