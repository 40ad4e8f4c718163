import { describe, expect, it } from 'vitest';
import { duration, formatProgress, ProgressBar } from './progress.js';

describe('progress bar', () => {
  it('shows share, rows, rate and ETA', () => {
    expect(formatProgress(0.25, 50_000, 10_000, 'export', 100)).toBe(
      'export [##########..............................]  25.0% 50.0k rows 5000 rows/s ETA 0:30',
    );
    expect(duration(3725)).toBe('1:02:05');
    expect(formatProgress(0, 0, 0)).toContain('ETA --:--');
  });

  it('redraws in place on a TTY and stays silent otherwise', () => {
    const written: string[] = [];
    let t = 0;
    const tty = new ProgressBar(
      { isTTY: true, columns: 80, write: (s) => written.push(s) },
      { now: () => t },
    );
    tty.update(0.1, 10);
    t = 50;
    tty.update(0.2, 20); // throttled
    t = 300;
    tty.update(0.3, 30);
    tty.done();
    expect(written).toHaveLength(3);
    expect(written[0]!.startsWith('\r')).toBe(true);
    expect(written[2]).toBe('\n');
    const quiet: string[] = [];
    const pipe = new ProgressBar({ isTTY: false, write: (s) => quiet.push(s) });
    pipe.update(0.5, 1, true);
    pipe.done();
    expect(quiet).toEqual([]);
  });
});
