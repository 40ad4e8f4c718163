import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LineReader } from '../../serial-collector/src/line-reader.js';
import { loadSerialConfigFile } from '../../serial-collector/src/serial-config.js';
import { MeterReadings, meterLine, nmeaChecksum, SERIAL_HEADER } from './serial-meter.js';

const SAMPLE = join(import.meta.dirname, '..', '..', '..', 'sample', 'serial', 'collector-demo.yaml');

function demoReader(): LineReader {
  const { config, problems } = loadSerialConfigFile(SAMPLE);
  expect(problems).toEqual([]);
  return new LineReader(config!.ports[0]!);
}

describe('the serial meters of the simulator', () => {
  it('print the line of the sample config, checksum included', () => {
    // The example line of sample/serial/collector-local.yaml and docs/serial-collector.md.
    expect(nmeaChecksum('2026-12-07 09:00:00,JM1,418,12.5,OK')).toBe('*3C');
    expect(
      meterLine(new Date('2026-12-07T00:00:00Z'), 'Asia/Seoul', { meter: 'JM1', pressure: 418, flow: 12.5 }),
    ).toBe('$2026-12-07 09:00:00,JM1,418,12.5,OK*3C\r\n');
    expect(meterLine(new Date('2026-12-07T00:00:00Z'), 'UTC', { meter: 'JM2', pressure: 400, flow: 9 })).toBe(
      `$2026-12-07 00:00:00,JM2,400,9.0,OK${nmeaChecksum('2026-12-07 00:00:00,JM2,400,9.0,OK')}\r\n`,
    );
  });

  it('are read by sample/serial/collector-demo.yaml as exact samples, and its header is skipped', () => {
    const reader = demoReader();
    const at = new Date('2026-12-07T03:04:05.678Z');
    const line = meterLine(new Date('2026-12-07T00:00:01Z'), 'Asia/Seoul', {
      meter: 'JM2',
      pressure: 437,
      flow: 11.3,
    });
    // The collector splits on \n and drops the \r before it.
    expect(reader.read(Buffer.from(line.slice(0, -1)), at)).toEqual({
      kind: 'sample',
      sample: {
        site: 'jangmyeong',
        equipment: 'water_meter',
        device: 'JM2',
        ts: '2026-12-07T00:00:01.000Z',
        fields: { pressure: 4.37, flow: 11.3 },
      },
    });
    expect(reader.read(Buffer.from(`${SERIAL_HEADER}\r`), at)).toEqual({ kind: 'skip', why: 'ignored' });
  });

  it('give every meter one plausible reading a tick, the same sequence for the same seed', () => {
    const a = new MeterReadings(['JM1', 'JM2'], 7);
    const b = new MeterReadings(['JM1', 'JM2'], 7);
    const reader = demoReader();
    for (let i = 0; i < 500; i++) {
      const readings = a.next();
      expect(b.next()).toEqual(readings);
      expect(readings.map((r) => r.meter)).toEqual(['JM1', 'JM2']);
      for (const r of readings) {
        expect(Number.isInteger(r.pressure)).toBe(true);
        expect(r.pressure).toBeGreaterThanOrEqual(380);
        expect(r.pressure).toBeLessThanOrEqual(460);
        expect(r.flow).toBeGreaterThanOrEqual(8);
        expect(r.flow).toBeLessThanOrEqual(16);
        const result = reader.read(Buffer.from(meterLine(new Date(), 'Asia/Seoul', r).trimEnd()), new Date());
        expect(result.kind, JSON.stringify(r)).toBe('sample');
      }
    }
  });
});
