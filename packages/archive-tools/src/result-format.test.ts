import { describe, expect, it } from 'vitest';
import { csvField, formatTable, jsonCell, queryResultToJson, toCsv } from './result-format.js';

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

  it('JSON: columns and rows of cells typed by their column, the same for both engines', () => {
    // DuckDB's type names (upper case, with parameters) and Athena's (lower case) give the same document.
    const cells = ['2024-03-01 10:00:00.000', '2024-03-01', '4', '2', '1.50', 'true', 'a,"b"', null];
    const duckdb = [
      'TIMESTAMP',
      'DATE',
      'DOUBLE',
      'BIGINT',
      'DECIMAL(18,2)',
      'BOOLEAN',
      'VARCHAR',
      'INTEGER',
    ];
    const athena = ['timestamp', 'date', 'double', 'bigint', 'decimal', 'boolean', 'varchar', 'integer'];
    const columns = ['hour', 'day', 'total', 'n', 'price', 'ok', 'name', 'missing'];
    const expected = {
      columns,
      rows: [['2024-03-01T10:00:00.000Z', '2024-03-01', 4, '2', '1.50', true, 'a,"b"', null]],
    };
    expect(queryResultToJson({ columns, rows: [cells], types: duckdb })).toEqual(expected);
    expect(queryResultToJson({ columns, rows: [cells], types: athena })).toEqual(expected);
    expect(JSON.stringify(queryResultToJson({ columns: ['n'], rows: [], types: ['BIGINT'] }))).toBe(
      '{"columns":["n"],"rows":[]}',
    );
    // A repeated column name stays two columns (objects keyed by name would lose one).
    expect(
      queryResultToJson({ columns: ['x', 'x'], rows: [['1', '2']], types: ['INTEGER', 'INTEGER'] }),
    ).toEqual({
      columns: ['x', 'x'],
      rows: [[1, 2]],
    });
  });

  it('JSON cells: exact 64-bit integers, non-finite floats and zoned timestamps as text', () => {
    expect(jsonCell('9007199254740993', 'BIGINT')).toBe('9007199254740993');
    expect(jsonCell('170141183460469231731687303715884105727', 'HUGEINT')).toBe(
      '170141183460469231731687303715884105727',
    );
    expect(jsonCell('-12', 'smallint')).toBe(-12);
    expect(jsonCell('1.0E-5', 'double')).toBe(0.00001);
    expect(jsonCell('NaN', 'DOUBLE')).toBe('NaN');
    expect(jsonCell('-Infinity', 'real')).toBe('-Infinity');
    expect(jsonCell('false', 'BOOLEAN')).toBe(false);
    expect(jsonCell('2024-03-01 10:00:00.000', 'TIMESTAMP WITH TIME ZONE')).toBe('2024-03-01T10:00:00.000Z');
    expect(jsonCell('2024-03-01 10:00:00.000 UTC', 'timestamp(3) with time zone')).toBe(
      '2024-03-01T10:00:00.000Z',
    );
    expect(jsonCell('2024-03-01 19:00:00.000 Asia/Seoul', 'timestamp with time zone')).toBe(
      '2024-03-01 19:00:00.000 Asia/Seoul',
    );
    expect(jsonCell('2024-03-01 10:00:00', 'TIMESTAMP_S')).toBe('2024-03-01T10:00:00Z');
    // Numbers in a text column stay text; so does an unknown type.
    expect(jsonCell('42', 'VARCHAR')).toBe('42');
    expect(jsonCell('[1, 2]', 'INTEGER[]')).toBe('[1, 2]');
    expect(jsonCell('7', undefined)).toBe('7');
  });
});
