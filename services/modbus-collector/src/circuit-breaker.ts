export type BreakerState = 'closed' | 'open' | 'half_open';

/** Gauge values for `gridstream_modbus_breaker_state`: 0 closed, 1 half-open, 2 open (higher = worse). */
export const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

export interface BreakerOptions {
  /** Consecutive failed polls that open the breaker. */
  failureThreshold: number;
  /** Time after opening (or after a failed probe) before one probe poll is let through. */
  coolDownMs: number;
}

/**
 * Per-device circuit breaker. A dead slave on an RS485 bus costs a full timeout (times retries) on every
 * poll, and the bus is half-duplex: every other device waits meanwhile. Once the breaker is open the
 * device is skipped, apart from one single-attempt probe per cool-down, so the rest of the bus keeps its
 * schedule. Time is passed in (monotonic ms) so that tests drive it without real clocks.
 */
export class CircuitBreaker {
  private stateValue: BreakerState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private probing = false;

  constructor(
    private readonly options: BreakerOptions,
    private readonly onChange: (from: BreakerState, to: BreakerState) => void = () => undefined,
  ) {}

  get state(): BreakerState {
    return this.stateValue;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  /**
   * Whether a poll may run now, and as what: a normal poll (with retries) or the one probe of a half-open
   * breaker (no retries: a probe of a dead slave must cost at most one timeout).
   */
  admit(now: number): 'poll' | 'probe' | 'skip' {
    if (this.stateValue === 'closed') return 'poll';
    if (this.stateValue === 'open' && now - this.openedAt >= this.options.coolDownMs) {
      this.transition('half_open');
    }
    if (this.stateValue === 'half_open' && !this.probing) {
      this.probing = true;
      return 'probe';
    }
    return 'skip';
  }

  recordSuccess(): void {
    this.failures = 0;
    this.probing = false;
    if (this.stateValue !== 'closed') this.transition('closed');
  }

  recordFailure(now: number): void {
    this.failures++;
    this.probing = false;
    if (
      this.stateValue === 'half_open' ||
      (this.stateValue === 'closed' && this.failures >= this.options.failureThreshold)
    ) {
      this.openedAt = now;
      this.transition('open');
    }
  }

  private transition(to: BreakerState): void {
    const from = this.stateValue;
    if (from === to) return;
    this.stateValue = to;
    this.onChange(from, to);
  }
}
