/**
 * Values in PostgreSQL's COPY text format (the default of `COPY … FROM STDIN`): columns separated by a tab,
 * rows ended by a newline, `\N` for NULL, and a backslash, tab, newline or carriage return inside a value
 * written as a backslash escape. An alarm message or an operator's comment may hold any of them; a tab left
 * raw would shift every later column of the row.
 */
export const COPY_NULL = '\\N';

const NEEDS_ESCAPE = /[\\\t\n\r]/;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

export function copyText(value: string): string {
  // Almost every value (site, device, field names) has nothing to escape: test before replacing.
  return NEEDS_ESCAPE.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]!) : value;
}

/** A double as COPY reads it back exactly: JavaScript's shortest round-trip form (`1e+21` included). */
export function copyNumber(value: number | null): string {
  return value === null ? COPY_NULL : String(value);
}

export function copyBoolean(value: boolean): string {
  return value ? 't' : 'f';
}

export function copyNullableText(value: string | null | undefined): string {
  return value === null || value === undefined ? COPY_NULL : copyText(value);
}
