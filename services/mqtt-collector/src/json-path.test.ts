import { describe, expect, it } from 'vitest';
import { parsePath, valueAt } from './json-path.js';

describe('JSON paths', () => {
  const doc = { a: { b: [10, { c: 'x' }] }, 'k.dot': 5, n: null };
  it.each([
    ['a.b[0]', 10],
    ['$.a.b[1].c', 'x'],
    ["['k.dot']", 5],
    ["$['k.dot']", 5],
    ['n', null],
    ['a.missing', undefined],
    ['a.b[5]', undefined],
    ['a.b.c', undefined],
    ['$', doc],
  ])('%s → %j', (path, expected) => {
    expect(valueAt(doc, parsePath(path))).toEqual(expected);
  });

  it('does not read inherited properties', () => {
    expect(valueAt({}, parsePath('constructor'))).toBeUndefined();
    expect(valueAt({ a: 1 }, parsePath('a.toString'))).toBeUndefined();
  });

  it.each(['a.', 'a..b', 'a[x]', 'a[1', '$.'])('refuses %s', (path) => {
    expect(() => parsePath(path)).toThrow();
  });
});
