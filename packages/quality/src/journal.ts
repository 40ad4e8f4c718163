/**
 * Undo log for the stage's state. The parser may run the same slice twice in one process (the produce
 * failed, the consumer loop retries it); without undo the second run would see the first run's state —
 * flatline counters doubled, an alarm already raised — and produce different flags and events for the
 * same input. With it, a failed slice is rolled back and the retry computes exactly what the first did.
 *
 * Hot state (one entry per series, per record) saves its own previous values in place (`save`/`restore`
 * of {@link Undoable}), so journaling costs no allocation; rarer state is copied (`touch`).
 */
export interface Undoable {
  /** Transaction that last saved this entry. */
  tx: number;
  save(): void;
  restore(): void;
}

interface Versioned {
  tx: number;
}

type Copy = [Map<string, Versioned>, string, Versioned | undefined];

export class Journal {
  private tx = 1;
  private saved: Undoable[] = [];
  private created: [Map<string, unknown>, string][] = [];
  private copies: Copy[] = [];

  /** Before mutating an existing hot entry: its first mutation in this transaction saves it. */
  save(entry: Undoable): void {
    if (entry.tx === this.tx) return;
    entry.save();
    entry.tx = this.tx;
    this.saved.push(entry);
  }

  /** An entry added to `map` in this transaction: removed on rollback. Stamps it as already saved. */
  create(map: Map<string, unknown>, key: string, entry: Versioned): void {
    entry.tx = this.tx;
    this.created.push([map, key]);
  }

  /** Before mutating (or adding, `current` undefined) a rare entry: a copy restores it on rollback. */
  touch<V extends Versioned>(map: Map<string, V>, key: string, current: V | undefined): void {
    if (current !== undefined && current.tx === this.tx) return;
    this.copies.push([
      map as Map<string, Versioned>,
      key,
      current === undefined ? undefined : { ...current },
    ]);
    if (current !== undefined) current.tx = this.tx;
  }

  /** Stamps an entry created after `touch(map, key, undefined)`. */
  stamp(entry: Versioned): void {
    entry.tx = this.tx;
  }

  commit(): void {
    if (this.saved.length > 0) this.saved = [];
    if (this.created.length > 0) this.created = [];
    if (this.copies.length > 0) this.copies = [];
    this.tx++;
  }

  rollback(): void {
    for (const entry of this.saved) entry.restore();
    for (let i = this.copies.length - 1; i >= 0; i--) {
      const [map, key, previous] = this.copies[i]!;
      if (previous === undefined) map.delete(key);
      else map.set(key, previous);
    }
    for (const [map, key] of this.created) map.delete(key);
    this.commit();
  }
}
