import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { InfluxConfig } from './influx-config.js';
import { authHeaders, baseUrl, quoteIdentifier } from './influx-http.js';
import { InFlight, type InfluxSink } from './influx-sink.js';
import { errorFromResponse, errorFromThrown, InfluxWriteError } from './influx-write-error.js';

const gzipAsync = promisify(gzip);

/**
 * InfluxDB 1.x: `POST /write?db=&rp=&precision=ms` with plain fetch. fetch pools keep-alive connections per
 * origin, so concurrent write() calls run as parallel requests.
 */
export class InfluxV1Sink implements InfluxSink {
  readonly api = 'v1' as const;
  private readonly writeUrl: string;
  private readonly headers: Record<string, string>;
  private readonly inFlight = new InFlight();
  /** One CREATE DATABASE at a time, however many writes hit `database not found` together. */
  private creating: Promise<void> | undefined;

  constructor(private readonly cfg: InfluxConfig) {
    const params = new URLSearchParams({ db: cfg.database, precision: 'ms' });
    if (cfg.retentionPolicy) params.set('rp', cfg.retentionPolicy);
    this.writeUrl = `${baseUrl(cfg)}/write?${params}`;
    this.headers = { 'content-type': 'text/plain; charset=utf-8', ...authHeaders(cfg) };
    if (cfg.gzip) this.headers['content-encoding'] = 'gzip';
  }

  write(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return Promise.resolve();
    return this.inFlight.run(() => this.writeWithCreate(lines));
  }

  private async writeWithCreate(lines: readonly string[]): Promise<void> {
    const text = lines.join('\n');
    let body: string | Buffer;
    try {
      // Off the event loop (zlib thread pool): a 5,000-line batch is ~1 MB.
      body = this.cfg.gzip ? await gzipAsync(Buffer.from(text, 'utf8')) : text;
    } catch (error) {
      throw errorFromThrown(error, lines.length);
    }
    try {
      await this.post(body, lines.length);
    } catch (error) {
      // The database was dropped or never created (fresh server, `rm -rf .local`): create it once and send
      // the same batch again, instead of pausing the pipeline until someone runs CREATE DATABASE by hand.
      if (
        this.cfg.createDatabase &&
        error instanceof InfluxWriteError &&
        error.status === 404 &&
        error.influxMessage.startsWith('database not found')
      ) {
        await this.ensureDatabase();
        await this.post(body, lines.length);
        return;
      }
      throw error;
    }
  }

  private async post(body: string | Buffer, lines: number): Promise<void> {
    let response: Response;
    try {
      response = await fetch(this.writeUrl, {
        method: 'POST',
        headers: this.headers,
        body,
        signal: AbortSignal.timeout(this.cfg.timeoutMs),
      });
    } catch (error) {
      throw errorFromThrown(error, lines);
    }
    let text: string;
    try {
      // Read even a 204's (empty) body: an unread body keeps its connection out of the keep-alive pool.
      text = await response.text();
    } catch (error) {
      if (response.ok) return;
      throw errorFromThrown(error, lines);
    }
    if (!response.ok) throw errorFromResponse(response.status, text, response.headers, lines);
  }

  ensureDatabase(): Promise<void> {
    this.creating ??= this.createDatabase().finally(() => {
      this.creating = undefined;
    });
    return this.creating;
  }

  private async createDatabase(): Promise<void> {
    const url = `${baseUrl(this.cfg)}/query`;
    const form = new URLSearchParams({ q: `CREATE DATABASE ${quoteIdentifier(this.cfg.database)}` });
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...authHeaders(this.cfg) },
        body: form,
        signal: AbortSignal.timeout(this.cfg.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      throw errorFromThrown(error);
    }
    if (!response.ok) throw errorFromResponse(response.status, text, response.headers);
    // A refused statement still answers 200, with the reason inside `results`.
    let statementError: string | undefined;
    try {
      statementError = (JSON.parse(text) as { results?: { error?: string }[] }).results?.[0]?.error;
    } catch {
      // 2xx without a JSON body (a proxy): nothing says it failed; the retried write will tell.
    }
    if (statementError) {
      throw new InfluxWriteError({
        code: /authoriz|privilege/i.test(statementError) ? 'unauthorized' : 'not_found',
        influxMessage: `cannot create database ${this.cfg.database}: ${statementError}`,
      });
    }
  }

  async ping(): Promise<boolean> {
    try {
      const response = await fetch(`${baseUrl(this.cfg)}/ping`, {
        signal: AbortSignal.timeout(this.cfg.timeoutMs),
      });
      await response.arrayBuffer();
      return response.ok;
    } catch {
      return false;
    }
  }

  close(): Promise<void> {
    return this.inFlight.close();
  }
}
