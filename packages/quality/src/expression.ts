/**
 * The alarm rules' value language, deliberately tiny: a field, the difference of two fields, either one
 * optionally inside `abs(...)`. That covers the protection rules (cell voltage gap = max − min, current
 * in either direction) without an evaluator that could be fed something expensive or surprising.
 */
export interface Expression {
  /** Normalised text, e.g. `max_cell_voltage - min_cell_voltage`; also the alarm event's `field`. */
  text: string;
  left: string;
  right?: string;
  abs: boolean;
}

const ABS = /^\s*abs\s*\((.*)\)\s*$/;

/** Parses an expression; returns an error message (never throws) for anything outside the language. */
export function parseExpression(input: string): Expression | string {
  let body = input;
  let abs = false;
  const absMatch = ABS.exec(input);
  if (absMatch) {
    abs = true;
    body = absMatch[1] ?? '';
  }
  // Field names may themselves contain `-` (`AC-L1`), so a difference needs spaces around the minus.
  const parts = body.split(/\s+-\s+/);
  if (parts.length > 2 || parts.some((p) => !/^[^\s()]+$/.test(p.trim()))) {
    return `"${input}" is not a field, "a - b", "abs(a)" or "abs(a - b)" (put spaces around the minus)`;
  }
  const left = parts[0]!.trim();
  const right = parts[1]?.trim();
  const inner = right === undefined ? left : `${left} - ${right}`;
  const expr: Expression = { text: abs ? `abs(${inner})` : inner, left, abs };
  if (right !== undefined) expr.right = right;
  return expr;
}

/** The expression's value for one record's fields; undefined when a field is missing (rule not evaluated). */
export function evaluate(expr: Expression, fields: Record<string, number>): number | undefined {
  const a = Object.hasOwn(fields, expr.left) ? fields[expr.left] : undefined;
  if (typeof a !== 'number' || !Number.isFinite(a)) return undefined;
  let v = a;
  if (expr.right !== undefined) {
    const b = Object.hasOwn(fields, expr.right) ? fields[expr.right] : undefined;
    if (typeof b !== 'number' || !Number.isFinite(b)) return undefined;
    v = a - b;
  }
  // 1e308 - (-1e308) overflows: an infinite value has no JSON form (it would become null in the event).
  if (!Number.isFinite(v)) return undefined;
  return expr.abs ? Math.abs(v) : v;
}
