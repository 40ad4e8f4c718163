/**
 * Why a row was not imported. Every row read ends up sent or here (with its file and line): the old tool's
 * uploader stopped at the first error while its page kept showing progress, losing the rest unseen.
 */
export const REJECT_REASONS = {
  bad_time: 'the time cell is empty, not in the chosen format, or a local time the zone skips (DST)',
  not_a_number: 'a chosen value column holds something other than a decimal number',
  missing_device: 'the device-id column is empty in this row',
  bad_device: 'the device id is over 128 characters or contains control characters',
  column_count: 'the CSV row has a different number of cells than the header',
  no_values: 'every chosen value column is empty in this row',
  malformed_csv: 'the lines could not be read as CSV (e.g. a stray or unclosed quote)',
} as const;

export type RejectReason = keyof typeof REJECT_REASONS;

export interface Reject {
  /** `file://<basename>` (with `#<sheet>` for Excel). */
  file: string;
  /** 1-based physical line of the file (header = line 1 usually); Excel: the row number. */
  line: number;
  reason: RejectReason;
  detail: string;
}

/** Keeps the first `max` rejects and counts all of them. */
export class RejectLog {
  readonly kept: Reject[] = [];
  total = 0;

  constructor(private readonly max: number) {}

  add(reject: Reject): void {
    this.total++;
    if (this.kept.length < this.max) this.kept.push(reject);
  }
}
