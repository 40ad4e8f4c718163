/**
 * A one-line progress bar on stderr: share of the time range done, rows, rows/s and ETA, redrawn in place
 * with `\r` at most a few times per second. Off when stderr is not a terminal, so logs and CI output are
 * not filled with carriage returns (a final summary line is printed by the command either way).
 */

export interface ProgressSink {
  isTTY?: boolean;
  columns?: number;
  write(s: string): unknown;
}

export interface ProgressOptions {
  /** Force on/off; default: on when the stream is a TTY. */
  enabled?: boolean;
  label?: string;
  /** Minimum time between redraws. */
  intervalMs?: number;
  now?: () => number;
}

export class ProgressBar {
  private readonly enabled: boolean;
  private readonly started: number;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private drawn = false;
  private readonly now: () => number;
  private readonly intervalMs: number;

  constructor(
    private readonly stream: ProgressSink,
    private readonly options: ProgressOptions = {},
  ) {
    this.enabled = options.enabled ?? stream.isTTY === true;
    this.now = options.now ?? Date.now;
    this.intervalMs = options.intervalMs ?? 200;
    this.started = this.now();
  }

  /** `fraction` of the work done (0..1) and rows so far. */
  update(fraction: number, rows: number, force = false): void {
    if (!this.enabled) return;
    const t = this.now();
    if (!force && t - this.lastDraw < this.intervalMs) return;
    this.lastDraw = t;
    const line = formatProgress(
      fraction,
      rows,
      t - this.started,
      this.options.label,
      this.stream.columns || 80,
    );
    this.stream.write(`\r${line}\u001b[K`);
    this.drawn = true;
  }

  /** Leaves the cursor on a fresh line so the summary that follows is not glued to the bar. */
  done(): void {
    if (this.enabled && this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}

export function formatProgress(
  fraction: number,
  rows: number,
  elapsedMs: number,
  label = '',
  width = 80,
): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const seconds = elapsedMs / 1000;
  const rate = seconds > 0 ? rows / seconds : 0;
  const eta = f > 0 && f < 1 ? (seconds * (1 - f)) / f : f >= 1 ? 0 : Number.NaN;
  const stats = `${(f * 100).toFixed(1).padStart(5)}% ${compact(rows)} rows ${compact(rate)} rows/s ETA ${duration(eta)}`;
  const prefix = label ? `${label} ` : '';
  const barWidth = Math.max(10, Math.min(40, width - prefix.length - stats.length - 4));
  const filled = Math.round(f * barWidth);
  return `${prefix}[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${stats}`;
}

function compact(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
