/**
 * A write the server answered with an error. `retriable: false` means the points themselves were refused
 * (a type conflict, a value out of range, a malformed name): retrying cannot help, the seam isolates and
 * dead-letters them. `retriable: true` is a server-side condition (outage, overload, auth) that may pass.
 */
export class SinkWriteError extends Error {
  override readonly name = 'SinkWriteError';
  constructor(
    /** The server's own message, kept for the dead letter. */
    readonly serverMessage: string,
    readonly retriable: boolean,
    readonly status?: number | string,
  ) {
    super(`${status === undefined ? '' : `${status}: `}${serverMessage}`);
  }
}
