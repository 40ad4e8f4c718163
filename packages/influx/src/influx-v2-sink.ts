import { HttpError, InfluxDB, type Transport } from '@influxdata/influxdb-client';
import type { InfluxConfig } from './influx-config.js';
import { InFlight, type InfluxSink } from './influx-sink.js';
import { errorFromResponse, errorFromThrown } from './influx-write-error.js';

/**
 * InfluxDB 1.8+ / 2.x / 3.x: `POST /api/v2/write?org=&bucket=&precision=ms`.
 *
 * Why the client's low-level `transport.request()` and not its WriteApi: WriteApi owns batching, a flush
 * timer and a retry buffer. Lines handed to it are "accepted" before the server has seen them, retried in
 * the background after our call returned, and after maxRetries dropped with only a log line — so the
 * influx-writer could commit Kafka offsets for data that never arrived, or block shutdown on a buffer it
 * cannot see. `transport.request()` is one HTTP request per call with no retry: its settle is the
 * server's answer, which is the commit point we need. We still get from the client what is specific to
 * 2.x: the `Token` header, gzip (gzipThreshold), HttpError with the body and Retry-After, and
 * keep-alive node:http connections that carry concurrent requests in parallel.
 */
export class InfluxV2Sink implements InfluxSink {
  readonly api = 'v2' as const;
  private readonly transport: Transport;
  private readonly writePath: string;
  private readonly inFlight = new InFlight();

  constructor(private readonly cfg: InfluxConfig) {
    if (!cfg.bucket) throw new Error('InfluxDB v2 API needs a bucket (INFLUX_BUCKET)');
    // `timeout` is the client's socket-inactivity timeout; the per-request AbortSignal below bounds the
    // whole request, including a server that trickles its answer.
    this.transport = new InfluxDB({ url: cfg.url, token: cfg.token, timeout: cfg.timeoutMs }).transport;
    const params = new URLSearchParams({ bucket: cfg.bucket, precision: 'ms' });
    if (cfg.org) params.set('org', cfg.org);
    this.writePath = `/api/v2/write?${params}`;
  }

  write(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return Promise.resolve();
    return this.inFlight.run(async () => {
      try {
        await this.transport.request(this.writePath, lines.join('\n'), {
          method: 'POST',
          headers: { 'content-type': 'text/plain; charset=utf-8' },
          // 0 = gzip every body; undefined = never.
          gzipThreshold: this.cfg.gzip ? 0 : undefined,
          signal: AbortSignal.timeout(this.cfg.timeoutMs),
        });
      } catch (error) {
        throw toWriteError(error, lines.length);
      }
    });
  }

  async ping(): Promise<boolean> {
    try {
      await this.transport.request('/ping', '', {
        method: 'GET',
        signal: AbortSignal.timeout(this.cfg.timeoutMs),
      });
      return true;
    } catch {
      return false;
    }
  }

  close(): Promise<void> {
    return this.inFlight.close();
  }
}

function toWriteError(error: unknown, lines: number) {
  if (error instanceof HttpError) {
    const headers = error.headers ?? {};
    return errorFromResponse(
      error.statusCode,
      error.body ?? '',
      {
        get(name: string) {
          const value = headers[name];
          return Array.isArray(value) ? value.join(', ') : (value ?? null);
        },
      },
      lines,
    );
  }
  return errorFromThrown(error, lines);
}
