export interface BatchItem<T> {
  line: string;
  ref: T;
}

export interface RejectedItem<T> {
  ref: T;
  message: string;
}

/** Writes lines; resolves with the items the sink refused for good (they go to the DLQ), throws to retry. */
export type WriteLines<T> = (items: BatchItem<T>[]) => Promise<RejectedItem<T>[]>;

interface Waiter<T> {
  items: BatchItem<T>[];
  resolve: (rejected: RejectedItem<T>[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Gathers lines from several partitions into one write of up to `maxLines`, or whatever has arrived
 * after `lingerMs`. Each caller's promise settles with the outcome of the write that carried its lines,
 * so each partition commits only what InfluxDB actually accepted. One partition adds its next slice only
 * after the previous one settled, which keeps per-device write order.
 */
export class LineBatcher<T> {
  private waiting: Waiter<T>[] = [];
  private lines = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly write: WriteLines<T>,
    private readonly maxLines: number,
    private readonly lingerMs: number,
  ) {}

  add(items: BatchItem<T>[]): Promise<RejectedItem<T>[]> {
    if (items.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.waiting.push({ items, resolve, reject });
      this.lines += items.length;
      if (this.lines >= this.maxLines) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.lingerMs);
    });
  }

  /** Sends whatever is waiting now (used at shutdown so nothing waits out the linger). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const waiting = this.waiting;
    this.waiting = [];
    this.lines = 0;
    if (waiting.length === 0) return;
    const items = waiting.flatMap((w) => w.items);
    this.write(items).then(
      (rejected) => {
        const byRef = new Map<T, RejectedItem<T>[]>();
        for (const r of rejected) byRef.set(r.ref, [...(byRef.get(r.ref) ?? []), r]);
        for (const w of waiting) w.resolve(w.items.flatMap((i) => byRef.get(i.ref) ?? []));
      },
      (error) => {
        for (const w of waiting) w.reject(error);
      },
    );
  }
}
