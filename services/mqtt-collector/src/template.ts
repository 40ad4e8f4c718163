import { type JsonPath, parsePath, valueAt } from './json-path.js';

/**
 * Identity values (site, equipment, device, rack) as written in the config: literal text with
 * placeholders, parsed once.
 * - `{N}`: level N of the message's topic, counted from 0 (`site/{1}` of `site/+/meter/+`);
 * - `{$.path}`: a value of the JSON payload (a string or a number);
 * - `{group}`, `{node}`, `{device}`: the Sparkplug topic's group, edge node and device ids.
 */
export type TemplatePart =
  | { kind: 'text'; text: string }
  | { kind: 'level'; index: number }
  | { kind: 'path'; path: JsonPath }
  | { kind: 'var'; name: string };

export interface Template {
  text: string;
  parts: TemplatePart[];
}

export interface TemplateRules {
  /** Topic levels a placeholder may name (those a matching topic is certain to have); 0 = none. */
  levels: number;
  paths: boolean;
  vars: readonly string[];
}

/** Parses a template; throws an Error saying what is wrong. */
export function parseTemplate(text: string, rules: TemplateRules): Template {
  const parts: TemplatePart[] = [];
  const re = /\{([^{}]*)\}/g;
  let last = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m.index > last) parts.push({ kind: 'text', text: text.slice(last, m.index) });
    last = m.index + m[0].length;
    const inner = m[1]!;
    if (/^\d+$/.test(inner)) {
      const index = Number(inner);
      if (rules.levels === 0) throw new Error(`{${inner}}: topic levels are not available here`);
      if (index >= rules.levels)
        throw new Error(
          `{${inner}}: the subscription's topic has ${rules.levels} level(s) before any "#" (counted from 0)`,
        );
      parts.push({ kind: 'level', index });
    } else if (inner.startsWith('$')) {
      if (!rules.paths) throw new Error(`{${inner}}: payload paths are not available here`);
      try {
        parts.push({ kind: 'path', path: parsePath(inner) });
      } catch (error) {
        throw new Error(`{${inner}}: ${(error as Error).message}`);
      }
    } else if (rules.vars.includes(inner)) {
      parts.push({ kind: 'var', name: inner });
    } else {
      const allowed = [
        ...(rules.levels > 0 ? ['{N} (a topic level)'] : []),
        ...(rules.paths ? ['{$.path}'] : []),
        ...rules.vars.map((v) => `{${v}}`),
      ];
      throw new Error(`{${inner}} is not a placeholder; use ${allowed.join(', ') || 'plain text'}`);
    }
  }
  if (/[{}]/.test(text.slice(last)) || parts.some((p) => p.kind === 'text' && /[{}]/.test(p.text)))
    throw new Error('has an unmatched "{" or "}"');
  if (last < text.length) parts.push({ kind: 'text', text: text.slice(last) });
  return { text, parts };
}

export interface TemplateContext {
  levels?: readonly string[];
  payload?: unknown;
  vars?: Readonly<Record<string, string | undefined>>;
}

/** The rendered value, or `{ missing }` naming what was not there. */
export function renderTemplate(template: Template, ctx: TemplateContext): string | { missing: string } {
  let out = '';
  for (const part of template.parts) {
    switch (part.kind) {
      case 'text':
        out += part.text;
        break;
      case 'level': {
        const level = ctx.levels?.[part.index];
        if (level === undefined || level === '') return { missing: `topic level ${part.index}` };
        out += level;
        break;
      }
      case 'path': {
        const value = valueAt(ctx.payload, part.path);
        if (typeof value === 'string' && value !== '') out += value;
        else if (typeof value === 'number' && Number.isFinite(value)) out += String(value);
        else
          return {
            missing: `${part.path.text} (${value === undefined ? 'absent' : `not a string or number: ${JSON.stringify(value)}`})`,
          };
        break;
      }
      case 'var': {
        const value = ctx.vars?.[part.name];
        if (value === undefined || value === '') return { missing: `{${part.name}}` };
        out += value;
        break;
      }
    }
  }
  return out;
}

/** True when the template has no placeholder (a fixed value, checkable at config time). */
export const isLiteral = (t: Template): boolean => t.parts.every((p) => p.kind === 'text');
