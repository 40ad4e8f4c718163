import { z } from 'zod';

// Defaults use zod 4's prefault so they go through the same parsing as a value from the environment.
// Environment values are strings. These parse them strictly: `z.coerce.boolean()` would read "false" as
// true, and `Number("")` is 0, both of which silently turn a typo into a different configuration.

export function envBoolean(defaultValue: boolean) {
  return z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
    .prefault(defaultValue ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');
}

export function envInt(defaultValue: number | undefined, range: { min?: number; max?: number } = {}) {
  let num = z.number().int();
  if (range.min !== undefined) num = num.min(range.min);
  if (range.max !== undefined) num = num.max(range.max);
  const parsed = z
    .string()
    .regex(/^-?\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(num);
  return defaultValue === undefined ? parsed : parsed.prefault(String(defaultValue));
}

/** Comma-separated list, blanks trimmed away: `a, b,,c` → ['a','b','c']. */
export function envList(defaultValue?: string) {
  const parsed = z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    )
    .pipe(z.array(z.string()).min(1, 'must list at least one value'));
  return defaultValue === undefined ? parsed : parsed.prefault(defaultValue);
}

/** `key=value,key=value` → record, e.g. per-site time zones `000001=Asia/Seoul,000002=Europe/Berlin`. */
export function envMap(defaultValue = '') {
  return z
    .string()
    .prefault(defaultValue)
    .transform((v, ctx) => {
      const out: Record<string, string> = {};
      for (const part of v.split(',')) {
        const item = part.trim();
        if (item === '') continue;
        const eq = item.indexOf('=');
        if (eq <= 0 || eq === item.length - 1) {
          ctx.addIssue({ code: 'custom', message: `"${item}" is not key=value` });
          continue;
        }
        out[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
      }
      return out;
    });
}
