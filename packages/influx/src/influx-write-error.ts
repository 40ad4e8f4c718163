/**
 * Why a write to InfluxDB failed: a closed list, because `retriable` is what the influx-writer turns into
 * commit / retry / dead-letter. Anything not recognised is retriable: a record must never be dead-lettered
 * for a reason nobody understood, and a paused consumer with a loud log is easy to fix and loses nothing.
 */
export const INFLUX_WRITE_ERROR_CODES = {
  /** Connection refused/reset, DNS, TLS: the server is not reachable. */
  network: { retriable: true },
  /** No answer within timeoutMs. The write may still have landed; a retry overwrites the same points. */
  timeout: { retriable: true },
  /** 5xx (incl. 1.x `retention policy not found`, 500; `timeout`, 500 when the write queue is slow). */
  server_error: { retriable: true },
  /** 429, 503: the server asks to back off; see retryAfterMs. */
  throttled: { retriable: true },
  /**
   * 401/403: a configuration problem, not a data problem. Retriable so the consumer pauses and logs
   * loudly: dead-lettering would fill the DLQ with good data that every later replay must sort out.
   */
  unauthorized: { retriable: true },
  /**
   * 404: database/bucket missing (and not created by us), or no such endpoint (`/api/v2/write` on
   * InfluxDB < 1.8). Also a configuration problem: retriable, for the same reason as unauthorized.
   */
  not_found: { retriable: true },
  /**
   * 400/422: the server refused the data (bad line protocol, `field type conflict`, field named `time`,
   * points outside the retention policy). Not retriable: the same bytes fail the same way forever.
   */
  rejected: { retriable: false },
  /** 413: the batch is larger than the server's max body size; split it and send the halves. */
  too_large: { retriable: false },
  /** Any other answer (3xx that fetch did not follow, 405, unknown 4xx): retried, with the status logged. */
  unexpected_status: { retriable: true },
} as const satisfies Record<string, { retriable: boolean }>;

export type InfluxWriteErrorCode = keyof typeof INFLUX_WRITE_ERROR_CODES;

export interface InfluxWriteErrorDetails {
  code: InfluxWriteErrorCode;
  status?: number;
  influxMessage: string;
  /** Lines in the request that failed. */
  lines?: number;
  retryAfterMs?: number;
  cause?: unknown;
}

const DROPPED = /dropped=(\d+)/;

export class InfluxWriteError extends Error {
  override readonly name = 'InfluxWriteError';
  readonly code: InfluxWriteErrorCode;
  /** HTTP status when the server answered; absent for network errors and timeouts. */
  readonly status?: number;
  readonly retriable: boolean;
  /** The server's own error text (`partial write: field type conflict: …`), or the transport error. */
  readonly influxMessage: string;
  /** 413: the caller should split the batch rather than dead-letter it. */
  readonly tooLarge: boolean;
  /** Lines in the request that failed. */
  readonly lines?: number;
  /**
   * InfluxDB 1.x answered `partial write`: the lines it could store ARE stored, only some were refused.
   * Resending the good lines is harmless (a point overwrites itself), so the caller may split the batch
   * to find the bad lines.
   */
  readonly partial: boolean;
  /**
   * `dropped=N` from a 1.x partial write: points refused at storage (type conflict, field `time`, outside
   * retention). Lines that did not even parse are NOT counted: 1.x reports them as `dropped=0`.
   */
  readonly dropped?: number;
  /** From a Retry-After header on 429/503. */
  readonly retryAfterMs?: number;
  /** 401/403/404: the configuration is wrong; log loudly and alert, retrying will not fix it by itself. */
  readonly configProblem: boolean;

  constructor(details: InfluxWriteErrorDetails) {
    const { code, status, influxMessage } = details;
    super(
      `InfluxDB write failed (${code}${status === undefined ? '' : `, HTTP ${status}`}): ${influxMessage}`,
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.code = code;
    this.status = status;
    this.retriable = INFLUX_WRITE_ERROR_CODES[code].retriable;
    this.influxMessage = influxMessage;
    this.tooLarge = code === 'too_large';
    this.lines = details.lines;
    this.partial = influxMessage.startsWith('partial write');
    const dropped = DROPPED.exec(influxMessage);
    this.dropped = dropped ? Number(dropped[1]) : undefined;
    this.retryAfterMs = details.retryAfterMs;
    this.configProblem = code === 'unauthorized' || code === 'not_found';
  }
}

/** The closed mapping from an HTTP status to an error code. */
export function codeForStatus(status: number, influxMessage = ''): InfluxWriteErrorCode {
  if (status === 400 || status === 422) return 'rejected';
  if (status === 401 || status === 403) return 'unauthorized';
  if (status === 404) return 'not_found';
  if (status === 413) return 'too_large';
  if (status === 429 || status === 503) return 'throttled';
  // 1.x answers 500 for a missing retention policy; it is a configuration problem like a missing database.
  if (status === 500 && influxMessage.startsWith('retention policy not found')) return 'not_found';
  if (status >= 500) return 'server_error';
  return 'unexpected_status';
}

const MAX_MESSAGE = 2_000;

/**
 * The error text from a response body: 1.x sends `{"error": "…"}`, 2.x/3.x `{"code": …, "message": "…"}`,
 * proxies and unknown endpoints plain text (`404 page not found`).
 */
export function influxErrorText(body: string, headerError?: string | null): string {
  const trimmed = body.trim();
  if (trimmed.startsWith('{')) {
    try {
      const json = JSON.parse(trimmed) as { error?: unknown; message?: unknown };
      if (typeof json.error === 'string') return json.error.slice(0, MAX_MESSAGE);
      if (typeof json.message === 'string') return json.message.slice(0, MAX_MESSAGE);
    } catch {
      // fall through: not JSON after all
    }
  }
  if (trimmed === '' && headerError) return headerError.slice(0, MAX_MESSAGE);
  return trimmed.slice(0, MAX_MESSAGE);
}

/** Retry-After is seconds or an HTTP date. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

/** An HTTP answer that was not 2xx. */
export function errorFromResponse(
  status: number,
  body: string,
  headers: { get(name: string): string | null },
  lines?: number,
): InfluxWriteError {
  const influxMessage = influxErrorText(body, headers.get('x-influxdb-error')) || `HTTP ${status}`;
  return new InfluxWriteError({
    code: codeForStatus(status, influxMessage),
    status,
    influxMessage,
    lines,
    retryAfterMs: parseRetryAfter(headers.get('retry-after')),
  });
}

/**
 * A thrown transport error (fetch's `TypeError: fetch failed` with a system-error cause, AbortSignal's
 * TimeoutError, node:http errors, the influxdb-client's RequestTimedOutError/AbortError). Nothing thrown
 * before a response arrives says anything about the data, so every such error is retriable.
 */
export function errorFromThrown(error: unknown, lines?: number): InfluxWriteError {
  if (error instanceof InfluxWriteError) return error;
  const e = error as {
    name?: string;
    message?: string;
    code?: string;
    cause?: { code?: string; message?: string };
  };
  const name = e?.name ?? '';
  if (name === 'TimeoutError' || name === 'AbortError' || name === 'RequestTimedOutError') {
    return new InfluxWriteError({ code: 'timeout', influxMessage: 'no answer in time', lines, cause: error });
  }
  const sysCode = e?.cause?.code ?? e?.code;
  const detail = e?.cause?.message ?? e?.message ?? String(error);
  return new InfluxWriteError({
    code: 'network',
    influxMessage: sysCode && !detail.includes(sysCode) ? `${sysCode}: ${detail}` : detail,
    lines,
    cause: error,
  });
}
