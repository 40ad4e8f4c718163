import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, sleep, waitFor } from '@gridstream/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Every command README.md shows, run the way a new user would: `make demo` for real (infrastructure, topics,
 * every service and simulator on their defaults), then each command of its "Try:" block against that demo,
 * each with an exit code of 0 and the output the README promises. `make` targets that cannot run inside
 * the test suite are checked with `make -n` (the target exists and its recipe expands), each with the
 * reason below. A README command no rule here knows fails the test, so a new one cannot go unchecked.
 */
const run = promisify(execFile);
const README = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
// The README's commands run under the Node that runs this suite (22), as `make` puts it first on the PATH.
const env = {
  ...process.env,
  PATH: `${dirname(process.execPath)}:${join(REPO_ROOT, 'node_modules', '.bin')}:${process.env.PATH}`,
};
// The serial and MQTT collectors (9112, 9113) too: the demo runs both, on its pty pair and its broker.
const HEALTH_PORTS = [9101, 9102, 9103, 9104, 9105, 9106, 9107, 9108, 9109, 9112, 9113];
const GRIDSTREAM_HOME = process.env.GRIDSTREAM_HOME ?? join(REPO_ROOT, '.local');

/** Make targets the suite does not run, and why; they are still checked to exist with `make -n`. */
const DRY_RUN: Record<string, string> = {
  test: 'this suite is `make test`',
  up: 'needs a Docker engine (none on these machines; docker-compose.int.test.ts validates the file)',
  down: 'needs a Docker engine',
  bench: 'minutes of load; docs/benchmarks.md holds its figures',
  soak: 'the 25-minute soak; soak.int.test.ts runs the short one',
  'soak-short': 'soak.int.test.ts runs it',
  fuzz: 'a million runs; the unit suite runs the same property with fewer',
  lint: '`make test` runs it before the suite',
  typecheck: '`make test` runs it before the suite',
  'infra-down': 'would stop the servers the rest of the suite needs',
  infra: 'running already (make test starts it)',
  connector: 'a foreground service: the demo runs it',
  parser: 'a foreground service: the demo runs it',
  writer: 'a foreground service: the demo runs it',
  archiver: 'a foreground service: the demo runs it',
  simulation: 'the foreground simulators: the demo runs them',
};

/** The shell commands of README.md: its ```sh blocks (continuations joined, comments cut) and `make …` spans. */
function readmeCommands(): string[] {
  const commands: string[] = [];
  for (const block of README.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const joined = block[1]!.replace(/\\\n\s*/g, '');
    for (const line of joined.split('\n')) {
      const command = line.replace(/\s+#\s.*$/, '').trim();
      if (command !== '' && !command.startsWith('#')) commands.push(command);
    }
  }
  for (const span of README.matchAll(/`(make [a-z-]+)`/g)) commands.push(span[1]!);
  return [...new Set(commands)];
}

const commands = readmeCommands();
let demo: ChildProcess | undefined;

const sh = (command: string, timeout = 120_000) =>
  run('bash', ['-c', command], { cwd: REPO_ROOT, env, timeout, maxBuffer: 64 * 1024 * 1024 });

async function ready(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/healthz/ready`, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  // `make demo` installs first when the lock file is newer than the last install: `npm ci` would then empty
  // node_modules under this very test run (it did, once). Refuse instead, saying what to do.
  const upToDate = await run('make', ['-q', 'node_modules/.installed'], { cwd: REPO_ROOT, env }).then(
    () => true,
    () => false,
  );
  if (!upToDate)
    throw new Error('a package manifest is newer than the last install: run `make install` before this test');
  const log = openSync(join(REPO_ROOT, '.local', 'readme-demo.log'), 'w');
  demo = spawn('make', ['demo'], { cwd: REPO_ROOT, env, detached: true, stdio: ['ignore', log, log] });
  await waitFor(
    async () => (await Promise.all(HEALTH_PORTS.map(ready))).every(Boolean),
    (all) => all,
    { timeoutMs: 240_000, intervalMs: 2_000, what: 'every demo service ready (.local/readme-demo.log)' },
  );
}, 300_000);

afterAll(async () => {
  // demo-watch.sh stops the services on TERM, as on Ctrl-C; make demo-stop makes sure.
  if (demo?.pid !== undefined) {
    try {
      process.kill(-demo.pid, 'SIGTERM');
    } catch {}
  }
  await sleep(1_000);
  await sh('make demo-stop', 120_000).catch(() => undefined);
}, 180_000);

describe('every command README.md shows', () => {
  it('knows every command of the README (a new one needs a check here)', () => {
    const unknown = commands.filter(
      (c) => !c.startsWith('make ') && !c.startsWith('curl ') && !c.startsWith('npx gridstream '),
    );
    expect(unknown).toEqual([]);
    const targets = commands.filter((c) => c.startsWith('make ')).map((c) => c.slice(5));
    expect(targets.filter((t) => t !== 'demo' && t !== 'topic' && DRY_RUN[t] === undefined)).toEqual([]);
    expect(commands.filter((c) => c.startsWith('npx gridstream ')).length).toBe(5);
  });

  it('make demo serves every service ready, and its archive answers the README query within a minute', async () => {
    expect((await Promise.all(HEALTH_PORTS.map(ready))).every(Boolean)).toBe(true);
    const query = commands.find((c) => c.startsWith('npx gridstream query'))!;
    const rows = await waitFor(
      async () => {
        // Before the first file the archive has no table yet: an error then, rows once a file is closed.
        const answer = await sh(`${query} --json`).catch(() => ({ stdout: '{"rows":[]}' }));
        return (JSON.parse(answer.stdout) as { rows: unknown[] }).rows;
      },
      (r) => r.length > 0,
      { timeoutMs: 90_000, intervalMs: 5_000, what: 'rows from the demo archive' },
    );
    expect(rows.length).toBeGreaterThan(0);
  });

  it('runs the MQTT and serial collectors on the simulators: ready on the console, their readings in InfluxDB', async () => {
    // The console polls both (its default CONSOLE_SERVICES), and sees them ready with messages flowing.
    const password = readFileSync(join(GRIDSTREAM_HOME, 'console-password'), 'utf8').trim();
    type Service = { name: string; ready: boolean; outRate: number | null };
    const services = await waitFor(
      async () => {
        const answer = await fetch('http://127.0.0.1:8080/api/pipeline', {
          headers: { authorization: `Bearer ${password}` },
          signal: AbortSignal.timeout(5_000),
        }).catch(() => undefined);
        return answer?.ok ? ((await answer.json()) as { services: Service[] }).services : [];
      },
      (list) =>
        ['serial-collector', 'mqtt-collector'].every((name) => {
          const s = list.find((x) => x.name === name);
          return s?.ready === true && (s.outRate ?? 0) > 0;
        }),
      { timeoutMs: 90_000, intervalMs: 3_000, what: 'both collectors ready and sending on /api/pipeline' },
    );
    expect(services.map((s) => s.name)).toEqual(
      expect.arrayContaining(['serial-collector', 'mqtt-collector']),
    );
    // What each produced, through parser and writer: the JSON meters and the Sparkplug PV inverter
    // (sample/mqtt/collector-local.yaml), the water meters on the pty pair (sample/serial/collector-demo.yaml).
    const count = async (q: string) => {
      const url = `http://127.0.0.1:8086/query?db=gridstream&q=${encodeURIComponent(q)}`;
      const body = (await (await fetch(url)).json()) as {
        results: { series?: { values: [string, number][] }[] }[];
      };
      return body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
    };
    const queries = [
      `SELECT count("p_kw") FROM "meter" WHERE "site" = 'mqtt01' AND "device" = 'm2'`,
      `SELECT count("AC/Power") FROM "pv" WHERE "site" = 'sparkplug01'`,
      `SELECT count("pressure") FROM "water_meter" WHERE "site" = 'jangmyeong' AND "device" = 'JM2'`,
    ];
    const counts = await waitFor(
      () => Promise.all(queries.map(count)),
      (c) => c.every((n) => n > 0),
      { timeoutMs: 90_000, intervalMs: 3_000, what: `readings in InfluxDB: ${queries.join('; ')}` },
    );
    expect(counts.every((n) => n > 0)).toBe(true);
  });

  it('runs each curl and npx command of the "Try:" block with exit 0 and the promised output', async () => {
    const checks: [RegExp, (stdout: string) => void][] = [
      [/SELECT last\(soc\)/, (o) => expect(JSON.parse(o).results[0].series.length).toBeGreaterThan(0)],
      [/healthz\/ready/, (o) => expect(JSON.parse(o).ready).toBe(true)],
      [/metrics \| grep/, (o) => expect(o).toMatch(/^gridstream_sink_points_total\{[^}]*\} [1-9]/m)],
      [/gridstream query/, (o) => expect(o).toMatch(/equipment/)],
      [
        /modbus probe/,
        (o) => expect(o.split('\n').filter((l) => /\S/.test(l)).length).toBeGreaterThanOrEqual(10),
      ],
      [/opcua browse/, (o) => expect(o).toMatch(/Objects/)],
      [/gridstream parse/, (o) => expect(o).toMatch(/"site"/)],
      [/gridstream import/, (o) => expect(o).toMatch(/rows? sent|sent/i)],
      [/FROM alarms/, (o) => expect(JSON.parse(o).results[0].statement_id).toBe(0)],
    ];
    const tried = commands.filter((c) => !c.startsWith('make '));
    expect(tried.length).toBe(checks.length);
    for (const command of tried) {
      const check = checks.find(([pattern]) => pattern.test(command));
      expect(check, `no check for: ${command}`).toBeDefined();
      // The InfluxDB and metrics answers fill as the demo runs: retry those until they say what they promise.
      await waitFor(
        async () => {
          try {
            const { stdout } = await sh(command);
            check![1](stdout);
            return '';
          } catch (error) {
            return `${command}: ${(error as Error).message.slice(0, 400)}`;
          }
        },
        (failure) => failure === '',
        { timeoutMs: 60_000, intervalMs: 3_000, what: command },
      );
    }
  });

  it('has every other make target the README names (make -n), and make topic runs', async () => {
    await sh('make topic');
    for (const target of Object.keys(DRY_RUN)) {
      if (!commands.includes(`make ${target}`)) continue;
      const { stdout } = await sh(`make -n ${target}`);
      expect(stdout.length, `make -n ${target}`).toBeGreaterThan(0);
    }
  });
});
