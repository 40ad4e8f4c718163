import { describe, expect, it } from 'vitest';
import { RateSchedule } from './rate-schedule.js';

describe('RateSchedule', () => {
  it('keeps the long-run rate exact whatever the timer jitter', () => {
    const schedule = new RateSchedule(20, 0);
    let now = 0;
    let sent = 0;
    // Timers that fire 0-37 ms late, for 60 simulated seconds.
    while (now < 60_000) {
      sent += schedule.take(now).due.length;
      now = Math.max(now, schedule.nextDueAt()) + ((now * 7919) % 38);
    }
    expect(sent).toBeGreaterThanOrEqual(20 * 60);
    expect(sent).toBeLessThanOrEqual(20 * 60 + 1);
  });

  it('hands out due messages with their scheduled instants, in order', () => {
    const schedule = new RateSchedule(4, 1_000);
    expect(schedule.take(999).due).toEqual([]);
    expect(schedule.take(1_600).due).toEqual([1_000, 1_250, 1_500]);
    expect(schedule.nextDueAt()).toBe(1_750);
    expect(schedule.take(2_000, 1).due).toEqual([1_750]);
  });

  it('skips instead of bursting after a long stall', () => {
    const schedule = new RateSchedule(10, 0, 1_000);
    schedule.take(0);
    const { due, skipped } = schedule.take(30_000);
    expect(skipped).toBeGreaterThan(280);
    expect(due.length).toBeLessThanOrEqual(11);
    expect(skipped + due.length + 1).toBe(301);
  });
});
