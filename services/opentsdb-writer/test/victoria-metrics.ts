import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '@gridstream/testkit';

// The tests' VictoriaMetrics (deploy/local/victoriametrics.sh): the shared instance of `make infra-test`, or
// a private one a test may stop and start (an outage) or start with other flags (basic auth).

const REPO = resolve(import.meta.dirname, '../../..');
const SCRIPT = resolve(REPO, 'deploy/local/victoriametrics.sh');
const run = promisify(execFile);

export const TEST_VM_URL = process.env.VM_URL ?? 'http://127.0.0.1:8428';
export const TEST_OPENTSDB_URL = process.env.OPENTSDB_URL ?? 'http://127.0.0.1:4242';

export interface Series {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

export class VictoriaMetrics {
  constructor(
    /** The main HTTP API (export, health). */
    readonly url: string,
    /** The OpenTSDB HTTP listener (/api/put). */
    readonly opentsdbUrl: string,
    private readonly env: Record<string, string> = {},
    private readonly auth?: string,
  ) {}

  /** The shared instance, started when it is not running. */
  static async shared(): Promise<VictoriaMetrics> {
    const vm = new VictoriaMetrics(TEST_VM_URL, TEST_OPENTSDB_URL);
    if (!(await vm.healthy())) {
      await vm.script('start');
      await vm.script('wait');
    }
    return vm;
  }

  /** A private instance on free ports with its own data folder (removed by {@link destroy}). */
  static async private(
    instance: string,
    options: { extraArgs?: string; username?: string; password?: string } = {},
  ): Promise<VictoriaMetrics> {
    const [http, opentsdb] = [await freePort(), await freePort()];
    const env = {
      VM_INSTANCE: instance,
      VM_HTTP_PORT: String(http),
      VM_OPENTSDB_PORT: String(opentsdb),
      VM_EXTRA_ARGS: options.extraArgs ?? '',
    };
    const auth =
      options.username === undefined
        ? undefined
        : `Basic ${Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64')}`;
    const vm = new VictoriaMetrics(`http://127.0.0.1:${http}`, `http://127.0.0.1:${opentsdb}`, env, auth);
    await vm.start();
    return vm;
  }

  async start(): Promise<void> {
    await this.script('start');
    await this.script('wait');
  }

  async stop(): Promise<void> {
    await this.script('stop');
  }

  /** Stops a private instance and removes its data (its log stays, for a failed test's post-mortem). */
  async destroy(): Promise<void> {
    await this.stop().catch(() => undefined);
    const instance = this.env.VM_INSTANCE;
    if (!instance) return;
    const home = resolve(REPO, '.local/victoriametrics');
    rmSync(resolve(home, `data-${instance}`), { recursive: true, force: true });
  }

  async healthy(): Promise<boolean> {
    try {
      const response = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(2_000) });
      return response.ok;
    } catch {
      return false;
    }
  }

  /**
   * Every series whose metric name starts with `prefix`, with all its samples: `/api/v1/export` after
   * `/internal/force_flush` (samples reach search within a second otherwise). Deduplicated by the server
   * (`-dedup.minScrapeInterval=1ms`), as a query would see them.
   */
  async export(prefix: string): Promise<Series[]> {
    const headers: Record<string, string> = this.auth ? { authorization: this.auth } : {};
    const flushed = await fetch(`${this.url}/internal/force_flush`, { headers });
    if (!flushed.ok) throw new Error(`force_flush: ${flushed.status} ${await flushed.text()}`);
    const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\\\$&');
    const response = await fetch(`${this.url}/api/v1/export`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ 'match[]': `{__name__=~"${escaped}.*"}`, start: '0' }),
    });
    if (!response.ok) throw new Error(`export: ${response.status} ${await response.text()}`);
    const text = await response.text();
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Series);
  }

  /** Samples under `prefix` in total. */
  async count(prefix: string): Promise<number> {
    return (await this.export(prefix)).reduce((n, s) => n + s.values.length, 0);
  }

  private async script(command: 'start' | 'stop' | 'wait'): Promise<void> {
    await run(SCRIPT, [command], { env: { ...process.env, ...this.env }, timeout: 120_000 });
  }
}

/** A series' samples as `timestamp → value`. */
export function samplesOf(series: Series): Map<number, number> {
  return new Map(series.timestamps.map((t, i) => [t, series.values[i]!]));
}

/** `name{k=v,...}` in sorted tag order: one key per series, for comparisons. */
export function seriesKey(metric: Record<string, string>): string {
  const { __name__: name, ...tags } = metric;
  return `${name}{${Object.entries(tags)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',')}}`;
}
