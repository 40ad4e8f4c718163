import { describe, expect, it } from 'vitest';
import { checksumOf, verifyChecksum } from './checksum.js';
import { LineReader, parseTime } from './line-reader.js';
import { parseSerialConfig, type ResolvedPort } from './serial-config.js';

const AT = new Date('2026-12-07T03:04:05.678Z');

function port(extra: Record<string, unknown>): ResolvedPort {
  const { config, problems } = parseSerialConfig({
    site: 's1',
    timeZone: 'Asia/Seoul',
    // device M1 unless the line names it
    ports: [
      {
        name: 'p',
        path: '/dev/ttyX',
        equipment: 'water_meter',
        ...('deviceFrom' in extra ? {} : { device: 'M1' }),
        ...extra,
      },
    ],
  });
  expect(problems).toEqual([]);
  return config!.ports[0]!;
}
const read = (p: ResolvedPort, line: string | Buffer) =>
  new LineReader(p).read(typeof line === 'string' ? Buffer.from(line, 'latin1') : line, AT);

describe('checksums', () => {
  it('nmea: XOR of the bytes between $ and *', () => {
    // A real NMEA sentence and its published checksum.
    const gga = '$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47';
    expect(verifyChecksum(Buffer.from(gga), 'nmea')).toEqual({
      ok: true,
      body: Buffer.from(gga.slice(1, -3)),
    });
    expect(checksumOf('GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,', 'nmea')).toBe('*47');
    expect(verifyChecksum(Buffer.from(gga.replace('545.4', '545.5')), 'nmea')).toMatchObject({ ok: false });
    expect(verifyChecksum(Buffer.from('$GPGGA,1*4g'), 'nmea')).toEqual({
      ok: false,
      message: 'no *hh checksum at the end of the line',
    });
  });

  it('sum8: the sum of the bytes before * modulo 256, hex in either case', () => {
    // 'A' + 'B' + 'C' = 65 + 66 + 67 = 198 = 0xC6
    expect(checksumOf('ABC', 'sum8')).toBe('*C6');
    expect(verifyChecksum(Buffer.from('ABC*c6'), 'sum8')).toEqual({ ok: true, body: Buffer.from('ABC') });
    expect(verifyChecksum(Buffer.from('ABC*C7'), 'sum8')).toEqual({
      ok: false,
      message: 'checksum C7 does not match the line (sum8 C6)',
    });
    // 300 bytes of 0xFF wrap around: (300 × 255) mod 256 = 0xD4
    const body = 'ÿ'.repeat(300);
    expect(checksumOf(body, 'sum8')).toBe('*D4');
  });
});

describe('LineReader', () => {
  const csv = port({
    deviceFrom: 'meter',
    format: { type: 'delimited', columns: ['time', 'meter', 'pressure', '-', 'flow'] },
    fields: { pressure: { scale: 0.01, offset: -1 }, flow: { optional: true } },
    time: { from: 'time' },
    ignore: ['^#'],
  });

  it('reads a delimited line: columns by name, scale and offset, device and local time from the line', () => {
    expect(read(csv, '2026-12-07 09:00:00,JM1,418,x,12.5\r')).toEqual({
      kind: 'sample',
      sample: {
        site: 's1',
        equipment: 'water_meter',
        device: 'JM1',
        ts: '2026-12-07T00:00:00.000Z',
        fields: { pressure: 418 * 0.01 - 1, flow: 12.5 },
      },
    });
    // an optional field left empty is left out; an offset in the line says the instant itself
    expect(read(csv, '2026-12-07T09:00:00+01:00,JM1, 5 ,x,')).toMatchObject({
      sample: { ts: '2026-12-07T08:00:00.000Z', fields: { pressure: 5 * 0.01 - 1 } },
    });
  });

  it('names what is wrong with a bad line by its dead-letter reason', () => {
    expect(read(csv, '2026-12-07 09:00:00,JM1,418,x')).toEqual({
      kind: 'bad',
      reason: 'unreadable',
      message: '4 columns where the format has 5',
    });
    expect(read(csv, '2026-12-07 09:00:00,JM1,0x1F,x,1')).toEqual({
      kind: 'bad',
      reason: 'wrong_type',
      message: 'pressure: "0x1F" is not a number',
    });
    expect(read(csv, '2026-12-07 09:00:00,JM1,,x,1')).toEqual({
      kind: 'bad',
      reason: 'unreadable',
      message: 'no value for pressure',
    });
    expect(read(csv, '2026-03-08 02:30:00,JM1,1,x,1')).toMatchObject({ kind: 'sample' }); // Seoul has no DST
    expect(read(csv, 'yesterday,JM1,1,x,1')).toMatchObject({ kind: 'bad', reason: 'bad_timestamp' });
    expect(read(csv, ',JM1,1,x,1')).toMatchObject({ kind: 'bad', reason: 'bad_timestamp' });
    expect(read(csv, '2026-12-07 09:00:00,,1,x,1')).toMatchObject({ kind: 'bad', reason: 'unreadable' });
    expect(read(csv, Buffer.from([0x31, 0xff, 0x2c]))).toEqual({
      kind: 'bad',
      reason: 'unreadable',
      message: 'the line is not text (bytes that are not UTF-8)',
    });
    expect(read(csv, `2026-12-07 09:00:00,${'d'.repeat(200)},1,x,1`)).toMatchObject({
      kind: 'bad',
      reason: 'invalid_record',
    });
    expect(read(csv, '2026-12-07 09:00:00,JM1,1e999,x,1')).toMatchObject({
      kind: 'bad',
      reason: 'wrong_type',
    });
  });

  it('skips empty lines and lines matching an ignore pattern', () => {
    expect(read(csv, '\r')).toEqual({ kind: 'skip', why: 'empty' });
    expect(read(csv, '   ')).toEqual({ kind: 'skip', why: 'empty' });
    expect(read(csv, '# meter v2.1 booted')).toEqual({ kind: 'skip', why: 'ignored' });
  });

  it('reads named groups of a pattern; the time of receipt when the line has none', () => {
    const rx = port({
      format: { type: 'regex', pattern: '^P=(?<p>[-0-9.]+)(?: T=(?<t>[-0-9.]+))?$' },
      fields: { pressure: { from: 'p' }, temperature: { from: 't', optional: true } },
    });
    expect(read(rx, 'P=1.5 T=-2')).toEqual({
      kind: 'sample',
      sample: {
        site: 's1',
        equipment: 'water_meter',
        device: 'M1',
        ts: AT.toISOString(),
        fields: { pressure: 1.5, temperature: -2 },
      },
    });
    expect(read(rx, 'P=1.5')).toMatchObject({ sample: { fields: { pressure: 1.5 } } });
    expect(read(rx, 'Q=1')).toEqual({
      kind: 'bad',
      reason: 'unreadable',
      message: 'the line does not match the pattern',
    });
  });

  it('reads key=value pairs with a checksum, device from a key, epoch time', () => {
    const kv = port({
      deviceFrom: 'id',
      checksum: 'nmea',
      format: { type: 'keyvalue' },
      fields: { flow: { from: 'f' }, total: { from: 'tot', optional: true } },
      time: { from: 'ts', format: 'epoch_ms' },
    });
    const body = 'id=F1, f=2.5; ts=1765098000123 extra=abc';
    expect(read(kv, `$${body}${checksumOf(body, 'nmea')}`)).toEqual({
      kind: 'sample',
      sample: {
        site: 's1',
        equipment: 'water_meter',
        device: 'F1',
        ts: '2025-12-07T09:00:00.123Z',
        fields: { flow: 2.5 },
      },
    });
    expect(read(kv, `$${body}*00`)).toMatchObject({ kind: 'bad', reason: 'bad_checksum' });
    expect(read(kv, `$id=F1 f=1 f=2 ts=1*${checksumOf('id=F1 f=1 f=2 ts=1', 'nmea').slice(1)}`)).toEqual({
      kind: 'bad',
      reason: 'unreadable',
      message: 'f appears twice',
    });
    const noPair = 'id=F1 f=1 junk ts=1';
    expect(read(kv, `$${noPair}${checksumOf(noPair, 'nmea')}`)).toEqual({
      kind: 'bad',
      reason: 'unreadable',
      message: '"junk" is not key=value',
    });
  });

  it('splits on runs of spaces when the separator is a space', () => {
    const ws = port({
      format: { type: 'delimited', separator: ' ', columns: ['a', 'b'] },
      fields: { a: {}, b: {} },
    });
    expect(read(ws, '  1.5    2  ')).toMatchObject({ sample: { fields: { a: 1.5, b: 2 } } });
  });
});

describe('parseTime', () => {
  it('reads local times in the zone (DST gap refused), offsets exactly, and epoch seconds or ms', () => {
    expect(parseTime('2026-07-01 12:00:00.5', 'YYYY-MM-DD HH:mm:ss', 'Europe/Berlin')).toBe(
      '2026-07-01T10:00:00.500Z',
    );
    expect(() => parseTime('2026-03-29 02:30:00', 'YYYY-MM-DD HH:mm:ss', 'Europe/Berlin')).toThrow();
    expect(parseTime('2026-07-01T12:00:00Z', 'YYYY-MM-DD HH:mm:ss', 'Europe/Berlin')).toBe(
      '2026-07-01T12:00:00.000Z',
    );
    expect(parseTime('1765098000.25', 'epoch_s', 'UTC')).toBe('2025-12-07T09:00:00.250Z');
    expect(() => parseTime('1765098000.25', 'epoch_ms', 'UTC')).toThrow(/epoch milliseconds/);
    expect(() => parseTime('-5', 'epoch_s', 'UTC')).toThrow(/epoch seconds/);
  });
});
