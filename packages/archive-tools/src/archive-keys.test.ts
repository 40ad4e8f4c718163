import { describe, expect, it } from 'vitest';
import { archiverKey, decodeNamePart, encodeNamePart, exportKey, parseArchiveKey } from './archive-keys.js';

describe('archive keys', () => {
  it('parses archiver and export names and skips everything else', () => {
    const key = archiverKey('2024-03-01', 'telemetry.parsed', 3, 10n, 42n);
    expect(key).toBe('dt=2024-03-01/telemetry.parsed+3+00000000000000000010+00000000000000000042.parquet');
    expect(parseArchiveKey(key)).toEqual({
      kind: 'archiver',
      dt: '2024-03-01',
      name: key.slice(14),
      topic: 'telemetry.parsed',
      partition: 3,
      first: 10n,
      last: 42n,
    });
    const day = Date.parse('2024-03-01T00:00:00Z');
    const exp = exportKey('2024-03-01', 'ev+charger/x', day, day + 86_400_000);
    expect(exp).toBe('dt=2024-03-01/export+ev%2Bcharger%2Fx+20240301T000000Z+20240302T000000Z.parquet');
    expect(parseArchiveKey(exp)).toMatchObject({ kind: 'export', measurement: 'ev+charger/x' });
    expect(parseArchiveKey('dt=2024-03-01/notes.parquet')).toMatchObject({ kind: 'other' });
    expect(parseArchiveKey('dt=2024-03-01/.x.parquet')).toBeUndefined();
    expect(parseArchiveKey('dt=2024-03-01/a.parquet.partial-12')).toBeUndefined();
    expect(parseArchiveKey('other/a.parquet')).toBeUndefined();
  });

  it('escapes exactly the characters that would break a name', () => {
    for (const s of ['pv', 'a+b', 'a/b', '100%', 'x\\y', 'tab\there'])
      expect(decodeNamePart(encodeNamePart(s))).toBe(s);
    expect(encodeNamePart('battery_rack')).toBe('battery_rack');
  });
});
