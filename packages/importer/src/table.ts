/**
 * What the readers (CSV, Excel sheet) hand to the row mapper: a header and a stream of rows with their
 * line numbers. One CSV file is one table; one Excel file is one table per sheet.
 */

/** A cell as read: CSV cells are text; Excel cells keep their type (number, date, text, boolean). */
export type Cell = string | number | boolean | Date | null | undefined;

export type RowEvent =
  | { kind: 'row'; line: number; cells: Cell[] }
  /** Lines the reader could not turn into a row (a broken quote); reported as one reject. */
  | { kind: 'malformed'; line: number; lastLine: number; detail: string };

export interface Table {
  /** `file://<basename>` or `file://<basename>#<sheet>`: the gs-source header and the rejects' file. */
  source: string;
  sheet?: string;
  header: Cell[];
  headerLine: number;
  /** CSV rows must have as many cells as the header; Excel rows omit trailing empty cells, so not there. */
  strictColumnCount: boolean;
  rows: AsyncIterable<RowEvent>;
  close(): void;
}
