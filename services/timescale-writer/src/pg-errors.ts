import { SinkWriteError } from '@gridstream/sink';

/** What node-postgres gives of a server error (pg-protocol's DatabaseError), plus a socket error's code. */
interface PgErrorFields {
  message?: string;
  code?: string;
  detail?: string;
  severity?: string;
}

const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * The SQLSTATE of an error the server sent (it has a severity: ERROR, FATAL), else undefined: a socket
 * error's code (`EPIPE`) can look like one.
 */
export function sqlstateOf(error: unknown): string | undefined {
  const { code, severity } = (error ?? {}) as PgErrorFields;
  return typeof severity === 'string' && typeof code === 'string' && SQLSTATE.test(code) ? code : undefined;
}

/**
 * SQLSTATEs that mean "these rows are refused", whichever server or moment: class 22 (data exception: a value
 * out of range for the column, a NUL byte in text, an unreadable timestamp), 23 (integrity: a CHECK or
 * foreign key the DBA put on the table), 21 (one key twice in one statement: splitting the batch resolves
 * it), and 54000 (a key too large for its index). The seam splits the batch to find the refused rows and
 * dead-letters them. Everything else — connection loss (08), shutdown (57P01), too many connections or no
 * disk (53), deadlock (40P01), a missing table or privilege (42), feature_not_supported (0A, e.g. an upsert
 * into a compressed chunk on TimescaleDB before 2.11) — is about the server or its setup: retried with
 * backoff while intake pauses, never a reason to dead-letter the stream.
 */
export function isRefusal(sqlstate: string | undefined): boolean {
  if (sqlstate === undefined || !SQLSTATE.test(sqlstate)) return false;
  const cls = sqlstate.slice(0, 2);
  return cls === '22' || cls === '23' || cls === '21' || sqlstate === '54000';
}

/** The server's own words for the dead letter: its message and, when it gives one, the detail (the row). */
export function serverMessage(error: PgErrorFields): string {
  const message = error.message ?? String(error);
  return error.detail ? `${message} (${error.detail})` : message;
}

/**
 * A failed write in the seam's terms: a refusal of the rows becomes a non-retriable SinkWriteError (with
 * the SQLSTATE as status); a server-side condition a retriable one; anything else (a socket error, a
 * timeout) is passed on and retried.
 */
export function toSinkError(error: unknown): unknown {
  const code = sqlstateOf(error);
  if (code === undefined) return error;
  return new SinkWriteError(serverMessage(error as PgErrorFields), !isRefusal(code), code);
}
