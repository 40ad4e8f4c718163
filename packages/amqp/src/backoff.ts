export interface BackoffOptions {
  /** Delay before the first retry. */
  initialMs: number;
  /** Upper bound: a broker or Kafka that comes back is noticed within this long. */
  maxMs: number;
}

/**
 * Exponential backoff with +-20% jitter, capped at maxMs. The jitter keeps several replicas that lost the
 * same broker at the same moment from reconnecting in lockstep.
 */
export function backoffDelay(attempt: number, { initialMs, maxMs }: BackoffOptions): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
  const jittered = base * (0.8 + Math.random() * 0.4);
  return Math.round(Math.min(maxMs, jittered));
}

/**
 * A sleep that `interrupt()` ends early, so stop() does not wait out a 5 s backoff before shutting down.
 * Resolves true when the full delay passed, false when interrupted.
 */
export class Sleeper {
  private pending = new Set<(completed: boolean) => void>();

  sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (completed: boolean) => {
        clearTimeout(timer);
        this.pending.delete(done);
        resolve(completed);
      };
      const timer = setTimeout(() => done(true), ms);
      this.pending.add(done);
    });
  }

  interrupt(): void {
    for (const done of [...this.pending]) done(false);
  }
}
