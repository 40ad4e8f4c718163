/**
 * When each message is due at a steady rate: message k at start + k / rate. Computing every due time
 * from the start (instead of sleeping 1/rate after each send) keeps the long-run rate exact however late
 * the timers fire; messages that fell due while the process was busy go out together on the next tick.
 */
export class RateSchedule {
  private origin: number;
  private issued = 0;
  private readonly intervalMs: number;
  /** Falling further behind than this skips the missed messages instead of sending them in a burst. */
  private readonly maxLagMs: number;

  constructor(ratePerSecond: number, startMs: number, maxLagMs = 5_000) {
    if (!(ratePerSecond > 0)) throw new RangeError('rate must be positive');
    this.maxLagMs = maxLagMs;
    this.intervalMs = 1000 / ratePerSecond;
    this.origin = startMs;
  }

  /** Scheduled instant of the next message. */
  nextDueAt(): number {
    return this.origin + this.issued * this.intervalMs;
  }

  /**
   * Claims the messages due at `nowMs` and returns their scheduled instants (oldest first), plus how many
   * were skipped because the schedule lagged by more than maxLagMs (a broker outage, a paused process).
   */
  take(nowMs: number, limit = Number.POSITIVE_INFINITY): { due: number[]; skipped: number } {
    let skipped = 0;
    const lag = nowMs - this.nextDueAt();
    if (lag > this.maxLagMs) {
      skipped = Math.floor(lag / this.intervalMs);
      this.issued += skipped;
    }
    const due: number[] = [];
    while (due.length < limit && this.nextDueAt() <= nowMs) {
      due.push(this.nextDueAt());
      this.issued += 1;
    }
    return { due, skipped };
  }
}
