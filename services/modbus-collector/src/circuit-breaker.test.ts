import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './circuit-breaker.js';

describe('CircuitBreaker', () => {
  it('opens after N consecutive failures, probes once per cool-down, closes on a good probe', () => {
    const changes: string[] = [];
    const b = new CircuitBreaker({ failureThreshold: 3, coolDownMs: 1000 }, (from, to) =>
      changes.push(`${from}>${to}`),
    );
    expect(b.admit(0)).toBe('poll');
    b.recordFailure(0);
    b.recordFailure(100);
    expect(b.state).toBe('closed');
    b.recordFailure(200);
    expect(b.state).toBe('open');
    expect(b.admit(500)).toBe('skip'); // cooling down: not polled, its slot blocks nobody
    expect(b.admit(1199)).toBe('skip');
    expect(b.admit(1200)).toBe('probe');
    expect(b.state).toBe('half_open');
    expect(b.admit(1210)).toBe('skip'); // only one probe in flight
    b.recordFailure(1300); // failed probe: open again, a full cool-down from now
    expect(b.state).toBe('open');
    expect(b.admit(2299)).toBe('skip');
    expect(b.admit(2300)).toBe('probe');
    b.recordSuccess();
    expect(b.state).toBe('closed');
    expect(b.consecutiveFailures).toBe(0);
    expect(b.admit(2400)).toBe('poll');
    expect(changes).toEqual([
      'closed>open',
      'open>half_open',
      'half_open>open',
      'open>half_open',
      'half_open>closed',
    ]);
  });

  it('a success in between resets the count: only consecutive failures open it', () => {
    const b = new CircuitBreaker({ failureThreshold: 2, coolDownMs: 10 });
    b.recordFailure(0);
    b.recordSuccess();
    b.recordFailure(1);
    expect(b.state).toBe('closed');
    b.recordFailure(2);
    expect(b.state).toBe('open');
  });
});
