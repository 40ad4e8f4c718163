import { describe, expect, it } from 'vitest';
import { OffsetProgress } from './offset-progress.js';

describe('OffsetProgress', () => {
  it('commits only the finished front of a partition: a later slice finishing first waits for the earlier', () => {
    const progress = new OffsetProgress();
    const a = progress.open('t', 0, 10n);
    const b = progress.open('t', 0, 20n);
    progress.finish(b);
    expect(progress.due()).toEqual([]);
    progress.finish(a);
    expect(progress.due()).toEqual([{ topic: 't', partition: 0, offset: '20' }]);
    expect(progress.pending).toBe(0);
  });

  it('keeps partitions apart and offers an offset again until it is reported committed', () => {
    const progress = new OffsetProgress();
    const a0 = progress.open('t', 0, 5n);
    const a1 = progress.open('t', 1, 7n);
    progress.open('t', 1, 9n);
    progress.finish(a0);
    progress.finish(a1);
    const due = progress.due();
    expect(due).toEqual([
      { topic: 't', partition: 0, offset: '5' },
      { topic: 't', partition: 1, offset: '7' },
    ]);
    expect(progress.due()).toEqual(due); // a failed commit is offered again
    progress.committed(due);
    expect(progress.due()).toEqual([]);
    expect(progress.pending).toBe(1);
  });

  it('passes records-free stretches (transaction markers) once everything before them is done', () => {
    const progress = new OffsetProgress();
    const a = progress.open('t', 0, 10n);
    progress.skip('t', 0, 12n);
    expect(progress.due()).toEqual([]);
    progress.finish(a);
    expect(progress.due()).toEqual([{ topic: 't', partition: 0, offset: '12' }]);
    progress.skip('t', 3, 4n);
    expect(progress.due()).toContainEqual({ topic: 't', partition: 3, offset: '4' });
  });

  it('forgets everything at a reset: slices of the old assignment finish into nothing', () => {
    const progress = new OffsetProgress();
    const old = progress.open('t', 0, 10n);
    progress.reset();
    const fresh = progress.open('t', 0, 4n);
    progress.finish(old);
    expect(progress.due()).toEqual([]);
    progress.finish(fresh);
    expect(progress.due()).toEqual([{ topic: 't', partition: 0, offset: '4' }]);
  });
});
