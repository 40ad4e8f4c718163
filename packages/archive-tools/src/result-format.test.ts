import { describe, expect, it } from 'vitest';
import { csvField, formatTable, toCsv } from './result-format.js';

describe('result formatting', () => {
  it('prints an aligned table, numbers right-aligned, NULL visible', () => {
    const text = formatTable(
      ['site', 'kwh'],
      [
        ['alpha', '12.5'],
        ['beta', null],
        ['감마', '3'],
      ],
    );
    expect(text.split('\n')).toEqual([
      '+-------+------+',
      '| site  |  kwh |',
      '+-------+------+',
      '| alpha | 12.5 |',
      '| beta  | NULL |',
      '| 감마  |    3 |',
      '+-------+------+',
      '(3 rows)',
    ]);
  });

  it('escapes control characters instead of sending them to the terminal', () => {
    expect(formatTable(['a'], [['x\u001b[2Jy']])).toContain('x\\x1b[2Jy');
  });

  it('writes RFC 4180 CSV with NULL as an empty field', () => {
    expect(
      toCsv(
        ['a', 'b'],
        [
          ['1', null],
          ['x,y', 'say "hi"'],
        ],
      ),
    ).toBe('a,b\n1,\n"x,y","say ""hi"""\n');
  });

  it('neutralises cells a spreadsheet would run as formulas, and leaves signed numbers alone', () => {
    expect(csvField('=HYPERLINK("http://evil.example","x")')).toBe(
      '"\'=HYPERLINK(""http://evil.example"",""x"")"',
    );
    expect(csvField('+cmd|calc')).toBe("'+cmd|calc");
    expect(csvField('-2+3')).toBe("'-2+3");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('\t=1')).toBe("'\t=1");
    for (const n of ['-3.5', '+1e3', '-.5', '-12', '1e-7', '0']) expect(csvField(n)).toBe(n);
    expect(csvField('a=b')).toBe('a=b');
  });
});
