import { describe, expect, it } from 'vitest';
import { AlignedSchedule } from './aligned-schedule.js';

describe('AlignedSchedule', () => {
  it('aligns slot 0 to the next wall-clock multiple of the interval (plus phase)', () => {
    const s = new AlignedSchedule(1000, { wallNow: 5_300, monoNow: 100 });
    expect(s.at(0)).toBe(800); // wall 6000 = mono 100 + 700
    expect(s.at(3)).toBe(3800);
    const phased = new AlignedSchedule(1000, { phaseMs: 250, wallNow: 5_300, monoNow: 100 });
    expect(phased.at(0)).toBe(100 + (6250 - 5300));
  });

  it('slots are first + k·interval: a slow poll does not shift later slots (no drift)', () => {
    const s = new AlignedSchedule(200, { wallNow: 0, monoNow: 0 });
    // poll of slot 0 took 150 ms: slot 1 stays at 200, not 350
    expect(s.nextSlot(0, 150)).toBe(1);
    expect(s.at(1)).toBe(200);
    let slot = 0;
    for (let k = 0; k < 1000; k++) slot = s.nextSlot(slot, s.at(slot) + 37);
    expect(s.at(slot)).toBe(200_000);
  });

  it('skips the slots a poll overran instead of bursting to catch up', () => {
    const s = new AlignedSchedule(200, { wallNow: 0, monoNow: 0 });
    expect(s.nextSlot(0, 450)).toBe(3); // slots 1 and 2 passed: skipped
    expect(s.nextSlot(0, 400)).toBe(2); // finished exactly on slot 2: run it now
    expect(s.nextSlot(5, 1000)).toBe(6); // finished early (timer fired late): next one
  });
});
