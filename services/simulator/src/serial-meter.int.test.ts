import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testLogger, waitFor } from '@gridstream/testkit';
import { ReadlineParser } from '@serialport/parser-readline';
import { SerialPort } from 'serialport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PtyPair } from '../../serial-collector/test/serial-peers.js';
import { SERIAL_HEADER, type SerialMeterStats, startSerialMeter } from './serial-meter.js';

/**
 * The simulator's serial meters on a real socat pty pair (what `make demo` runs: deploy/local/serial-line.sh):
 * what a serial port on the other end reads, the line missing at start and the pair restarted (the meter
 * opens it again), and a reader that is not there (lines dropped without blocking anything). The collector
 * reading these lines is services/serial-collector's own test; the format is checked in serial-meter.test.ts.
 */
const dir = mkdtempSync(join(tmpdir(), 'gs-sim-serial-'));
let pair: PtyPair | undefined;
let meter: { stop(): Promise<void>; stats: SerialMeterStats } | undefined;
let port: SerialPort | undefined;
const lines: string[] = [];

async function openReader(path: string): Promise<SerialPort> {
  const p = new SerialPort({ path, baudRate: 9600, autoOpen: false });
  await new Promise<void>((done, fail) => p.open((e) => (e ? fail(e) : done())));
  p.pipe(new ReadlineParser({ delimiter: '\n' })).on('data', (line: string) => lines.push(line));
  return p;
}

const closeReader = (p: SerialPort | undefined) =>
  new Promise<void>((done) => (p?.isOpen ? p.close(() => done()) : done()));

beforeAll(async () => {
  // The meter starts before its line exists: it must wait for it, not create a file in its place.
  meter = await startSerialMeter({
    path: join(dir, 'line-a'),
    intervalMs: 100,
    meters: ['JM1', 'JM2'],
    timeZone: 'Asia/Seoul',
    seed: 1,
    logger: testLogger(),
    reopenMaxMs: 300,
  });
  await new Promise((r) => setTimeout(r, 400));
  expect(existsSync(join(dir, 'line-a')), 'no regular file made in place of the pty').toBe(false);
  pair = await PtyPair.start(dir, 'line');
  port = await openReader(pair.b);
}, 30_000);

afterAll(async () => {
  await meter?.stop();
  await closeReader(port);
  await pair?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the simulator’s serial meters on a socat pty pair', () => {
  it('print checksummed lines of both meters once the line exists', async () => {
    const meterLines = await waitFor(
      () => lines.filter((l) => l.startsWith('$')),
      (l) => l.length >= 10,
      { what: 'meter lines on the other end', timeoutMs: 20_000 },
    );
    for (const line of meterLines)
      expect(line).toMatch(/^\$\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,JM[12],\d{3},\d+\.\d,OK\*[0-9A-F]{2}\r$/);
    expect(new Set(meterLines.map((l) => l.split(',')[1]))).toEqual(new Set(['JM1', 'JM2']));
    expect(meter!.stats.opened).toBe(1);
  });

  it('opens the line again after the pair was restarted, printing its header first', async () => {
    await closeReader(port);
    await pair!.kill();
    await pair!.restart();
    lines.length = 0;
    port = await openReader(pair!.b);
    await waitFor(
      () => lines.filter((l) => l.startsWith('$')).length,
      (n) => n >= 4,
      { what: 'lines after the restart', timeoutMs: 20_000 },
    );
    expect(meter!.stats.opened).toBe(2);
    // The header is printed on each open; it arrives unless the reader opened (and flushed) after it.
    expect(lines.every((l) => l.startsWith('$') || l === `${SERIAL_HEADER}\r`)).toBe(true);
  });

  it('drops the lines nobody reads without blocking the process', async () => {
    // A meter of its own on a pair of its own, printing 50 lines every 20 ms (~110 KB/s) with nobody
    // reading: the pty buffers fill within a second, then every write is refused at once.
    const flood = await PtyPair.start(dir, 'flood');
    const busy = await startSerialMeter({
      path: flood.a,
      intervalMs: 20,
      meters: Array.from({ length: 50 }, (_, i) => `M${i}`),
      timeZone: 'UTC',
      seed: 2,
      logger: testLogger(),
    });
    try {
      await waitFor(
        () => busy.stats.dropped,
        (n) => n > 0,
        { what: 'lines dropped while nobody reads', timeoutMs: 30_000 },
      );
      // The event loop kept running meanwhile: a blocking write would have held this timer up.
      const lateBy = await new Promise<number>((done) => {
        const t = Date.now();
        setTimeout(() => done(Date.now() - t - 50), 50);
      });
      expect(lateBy).toBeLessThan(500);
      expect(busy.stats.written).toBeGreaterThan(0);
      // Stopping does not hang on a full line either.
      const stopping = Date.now();
      await busy.stop();
      expect(Date.now() - stopping).toBeLessThan(2_000);
    } finally {
      await busy.stop();
      await flood.stop();
    }
  });
});
