/**
 * Query results as text: an aligned table for the terminal, CSV for files. Both engines go through the
 * same functions, so `gridstream query` looks the same on Athena and DuckDB.
 */

export const NULL_TEXT = 'NULL';

/** Width of a string in terminal cells, close enough for Latin, CJK (2 cells) and combining marks (0). */
function cellWidth(s: string): number {
  let w = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if ((cp >= 0x300 && cp <= 0x36f) || cp === 0x200b) continue;
    w +=
      (cp >= 0x1100 && cp <= 0x115f) ||
      (cp >= 0x2e80 && cp <= 0xa4cf) ||
      (cp >= 0xac00 && cp <= 0xd7a3) ||
      (cp >= 0xf900 && cp <= 0xfaff) ||
      (cp >= 0xff00 && cp <= 0xff60) ||
      (cp >= 0x1f300 && cp <= 0x1faff)
        ? 2
        : 1;
  }
  return w;
}

/** Control characters would break the layout (and could drive the terminal); show them escaped. */
function printable(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what gets escaped
  return s.replace(/[\u0000-\u001f\u007f]/g, (c) =>
    c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

const NUMERIC = /^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$|^-?(Infinity|NaN)$/;

export function formatTable(
  columns: readonly string[],
  rows: readonly (readonly (string | null)[])[],
): string {
  const header = columns.map(printable);
  const body = rows.map((r) =>
    columns.map((_, i) => (r[i] === null || r[i] === undefined ? NULL_TEXT : printable(r[i]!))),
  );
  const widths = header.map((h, i) => Math.max(cellWidth(h), ...body.map((r) => cellWidth(r[i]!))));
  // Numbers align right when the whole column is numeric (NULLs aside), as in psql and the Athena console.
  const right = columns.map(
    (_, i) => body.length > 0 && body.every((r) => r[i] === NULL_TEXT || NUMERIC.test(r[i]!)),
  );
  const pad = (s: string, i: number) => {
    const fill = ' '.repeat(widths[i]! - cellWidth(s));
    return right[i] ? fill + s : s + fill;
  };
  const line = (cells: string[]) => `| ${cells.map(pad).join(' | ')} |`;
  const rule = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const out = [rule, line(header), rule, ...body.map(line), rule];
  out.push(`(${rows.length} row${rows.length === 1 ? '' : 's'})`);
  return out.join('\n');
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * RFC 4180: quoted only when needed; NULL is an empty field. A text cell that a spreadsheet would run as a
 * formula (starting with `=`, `+`, `-`, `@`, tab or CR, e.g. a device name `=HYPERLINK(…)` from a
 * gateway) gets a leading `'`, so opening an export in Excel or LibreOffice never executes it; numbers such
 * as `-3.5` or `+1e3` stay as they are.
 */
export function csvField(value: string | null): string {
  if (value === null) return '';
  const text = /^[=+\-@\t\r]/.test(value) && !NUMBER.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(columns: readonly string[], rows: readonly (readonly (string | null)[])[]): string {
  const lines = [columns.map(csvField).join(',')];
  for (const r of rows) lines.push(columns.map((_, i) => csvField(r[i] ?? null)).join(','));
  return `${lines.join('\n')}\n`;
}

/** A cell of `queryResultToJson`: typed by its column's SQL type. */
export type JsonCell = string | number | boolean | null;

/** 64-bit and arbitrary-precision numbers: strings, so no digit is lost in a JavaScript reader. */
const EXACT_TYPES = new Set([
  'bigint',
  'int8',
  'long',
  'hugeint',
  'ubigint',
  'uhugeint',
  'decimal',
  'numeric',
]);
const INTEGER_TYPES = new Set([
  'tinyint',
  'smallint',
  'integer',
  'int',
  'int1',
  'int2',
  'int4',
  'utinyint',
  'usmallint',
  'uinteger',
]);
const FLOAT_TYPES = new Set(['double', 'float', 'real', 'float4', 'float8', 'double precision']);
const TIMESTAMP_TYPES = new Set([
  'timestamp',
  'timestamp_s',
  'timestamp_ms',
  'timestamp_ns',
  'timestamp with time zone',
  'timestamptz',
]);
/** `2024-03-01 10:00:00.000`, as both engines print a timestamp (Athena adds ` UTC` with a time zone). */
const TIMESTAMP_TEXT = /^(\d{4,}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)(?: UTC)?$/;

/** One cell as JSON: what its type says it is, the text as printed where JSON has no such value. */
export function jsonCell(text: string | null, type: string | undefined): JsonCell {
  if (text === null) return null;
  const base = (type ?? '')
    .toLowerCase()
    .replace(/\(.*?\)/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (base === 'boolean' || base === 'bool') return text === 'true' ? true : text === 'false' ? false : text;
  if (EXACT_TYPES.has(base)) return text;
  if (INTEGER_TYPES.has(base) || FLOAT_TYPES.has(base)) {
    const n = Number(text);
    // NaN and ±Infinity are not JSON numbers: they stay text ("NaN", "Infinity", "-Infinity").
    return text.trim() !== '' && Number.isFinite(n) ? n : text;
  }
  if (TIMESTAMP_TYPES.has(base)) {
    const m = TIMESTAMP_TEXT.exec(text);
    // Zone-less timestamps are UTC wall time in the archive (and DuckDB runs in UTC): ISO 8601 with Z.
    // An Athena timestamp with a zone other than UTC stays as Athena printed it.
    return m ? `${m[1]}T${m[2]}Z` : text;
  }
  return text;
}

/**
 * A query result as one JSON document: `{"columns": [...], "rows": [[...], ...]}`. Rows are arrays in
 * column order rather than objects: a result may repeat a column name (`SELECT a.x, b.x`), and an empty
 * result still says its columns. Cells are typed by their column: integers up to 32 bits, floats and
 * doubles are numbers (NaN/Infinity as strings), bigint/decimal strings (exact), booleans true/false,
 * timestamps ISO 8601 UTC (`2024-03-01T10:00:00.000Z`), dates `2024-03-01`, NULL null, anything else
 * (varchar, arrays, maps, structs) the text as the table shows it.
 */
export function queryResultToJson(result: {
  columns: readonly string[];
  rows: readonly (readonly (string | null)[])[];
  types?: readonly string[];
}): { columns: string[]; rows: JsonCell[][] } {
  return {
    columns: [...result.columns],
    rows: result.rows.map((row) => result.columns.map((_, i) => jsonCell(row[i] ?? null, result.types?.[i]))),
  };
}
