/**
 * `*` (any run of characters) and `?` (one character) patterns for equipment, device and field names.
 * Compiled once to an anchored RegExp; every other character is literal, so a field named `a.b` or `x+y`
 * matches only itself (an unescaped `.` would have matched `aXb` and flagged the wrong series).
 */
export type NameMatcher = (name: string) => boolean;

export function isGlob(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

export function compileGlob(pattern: string): NameMatcher {
  if (pattern === '*') return () => true;
  if (!isGlob(pattern)) return (name) => name === pattern;
  let source = '^';
  for (const ch of pattern) {
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else source += ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  const re = new RegExp(`${source}$`, 's');
  return (name) => re.test(name);
}
