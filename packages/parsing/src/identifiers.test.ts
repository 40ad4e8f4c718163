import { FieldName, Identifier } from '@gridstream/schema';
import { describe, expect, it } from 'vitest';
import { isFieldName, toIdentifier } from './identifiers.js';
import { childPath } from './json-path.js';

// The hand-written checks exist for speed only; they must accept exactly what the schema accepts.
describe('toIdentifier agrees with the schema Identifier', () => {
  it.each([
    ['01', '01'],
    ['000001', '000001'],
    [' site 7 ', ' site 7 '],
    ['미래관', '미래관'],
    ['x'.repeat(128), 'x'.repeat(128)],
    [0, '0'],
    [7, '7'],
    [Number.MAX_SAFE_INTEGER, String(Number.MAX_SAFE_INTEGER)],
  ])('accepts %j as %j', (value, expected) => {
    expect(toIdentifier(value)).toBe(expected);
    expect(Identifier.safeParse(expected).success).toBe(true);
  });

  it.each([
    '',
    'x'.repeat(129),
    'a\u0000b',
    'tab\there',
    'del\u007f',
    -1,
    1.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    1e21,
    true,
    null,
    undefined,
    {},
    [],
  ])('refuses %j', (value) => {
    expect(toIdentifier(value)).toBeUndefined();
    if (typeof value === 'string') expect(Identifier.safeParse(value).success).toBe(false);
  });
});

describe('isFieldName agrees with the schema FieldName', () => {
  it.each(['soc', 'AC_ACTIVE', 'Cipher Algorithm', 'x'.repeat(200), '온도', 'constructor'])(
    'accepts %j',
    (key) => {
      expect(isFieldName(key)).toBe(true);
      expect(FieldName.safeParse(key).success).toBe(true);
    },
  );

  it.each(['', 'x'.repeat(201), 'a\nb', 'a\u001fb', 'a\u007fb'])('refuses %j', (key) => {
    expect(isFieldName(key)).toBe(false);
    expect(FieldName.safeParse(key).success).toBe(false);
  });

  it('also refuses __proto__, which plain objects and zod records would drop silently', () => {
    expect(isFieldName('__proto__')).toBe(false);
  });
});

describe('childPath', () => {
  it('uses dots for plain keys, brackets for indexes and for keys that need quoting', () => {
    expect(childPath('', 'header')).toBe('header');
    expect(childPath('header', 'site_id')).toBe('header.site_id');
    expect(childPath('FieldDeviceLayer.field1.service', 0)).toBe('FieldDeviceLayer.field1.service[0]');
    expect(childPath('EnergyPlatformLayer', 'Cipher Algorithm')).toBe(
      'EnergyPlatformLayer["Cipher Algorithm"]',
    );
    expect(childPath('', 'a.b')).toBe('["a.b"]');
    expect(childPath('x', '1st')).toBe('x["1st"]');
  });

  it('shortens huge keys, so a problem path stays small', () => {
    expect(childPath('a', 'k'.repeat(1_000_000))).toBe(`a["${'k'.repeat(100)}…"]`);
  });
});
