/**
 * Paths into a JSON payload, as written in the mapping: `values.P`, `$.values.P` (the `$.` is optional),
 * `data[0].v`, `['key.with.dots']`, `$` (the whole payload). Parsed once at config time.
 */
export type PathStep = string | number;

export interface JsonPath {
  text: string;
  steps: PathStep[];
}

/** Parses a path; throws an Error whose message says what is wrong. */
export function parsePath(text: string): JsonPath {
  const steps: PathStep[] = [];
  let i = 0;
  if (text === '$') return { text, steps };
  if (text.startsWith('$.')) i = 2;
  else if (text.startsWith('$[')) i = 1;
  if (text.length === i) throw new Error('is empty');
  let expectName = true;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '[') {
      const close = text.indexOf(']', i);
      if (close < 0) throw new Error(`"[" at ${i} is never closed`);
      const inner = text.slice(i + 1, close);
      const quoted = /^'(.*)'$|^"(.*)"$/.exec(inner);
      if (quoted) steps.push(quoted[1] ?? quoted[2]!);
      else if (/^\d+$/.test(inner)) steps.push(Number(inner));
      else throw new Error(`[${inner}] is neither an index nor a quoted key`);
      i = close + 1;
      expectName = false;
      if (text[i] === '.') {
        i++;
        expectName = true;
        if (i >= text.length) throw new Error('ends with "."');
      }
      continue;
    }
    if (!expectName) throw new Error(`unexpected "${ch}" at ${i}`);
    let end = i;
    while (end < text.length && text[end] !== '.' && text[end] !== '[') end++;
    const name = text.slice(i, end);
    if (name === '') throw new Error(`empty key at ${i}`);
    steps.push(name);
    i = end;
    if (text[i] === '.') {
      i++;
      if (i >= text.length) throw new Error('ends with "."');
    } else expectName = false;
  }
  return { text, steps };
}

/** The value at `path`, or undefined when any step is missing (null is a value: "no reading"). */
export function valueAt(root: unknown, path: JsonPath): unknown {
  let node = root;
  for (const step of path.steps) {
    if (node === null || typeof node !== 'object') return undefined;
    if (typeof step === 'number') {
      if (!Array.isArray(node)) return undefined;
      node = node[step];
    } else {
      if (Array.isArray(node) || !Object.hasOwn(node, step)) return undefined;
      node = (node as Record<string, unknown>)[step];
    }
  }
  return node;
}
