import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import type { Logger } from '@gridstream/runtime';
import { Prng } from './prng.js';
import { formatGatewayTimestamp, zonedTime } from './zoned-time.js';

/**
 * Water meters printing ASCII lines on a serial line, for the serial collector's demo
 * (sample/serial/collector-demo.yaml, docs/serial-collector.md): every interval, one line per meter of an
 * RS485 bus, in the format of the sample's `pressure-bus` port — wall-clock time in `timeZone`, the meter's
 * id, the pressure in hundredths of a bar, the flow in m³/h and a status word, with an NMEA checksum:
 *
 *   $2026-12-07 09:00:00,JM1,418,12.5,OK*3C
 *
 * and, each time the line is opened, the CSV header a meter prints at power-up (`time,meter,…`, which the
 * sample's `ignore` skips). The lines are written to `path` with plain file writes: one end of a socat pty
 * pair (deploy/local/serial-line.sh; the collector opens the other end), or a real serial port's device.
 * The line is opened without O_CREAT (a missing pty is retried, never replaced by a regular file) and
 * non-blocking: while nobody reads the other end, the pty's buffer fills and a write fails with EAGAIN;
 * those lines are dropped, as a UART drops what nobody receives, and counted. A line that vanishes (socat
 * stopped: EIO) is opened again with backoff, as a meter on a replugged adapter starts printing again.
 */
export interface SerialMeterOptions {
  path: string;
  intervalMs: number;
  /** Meter ids on the bus. */
  meters: readonly string[];
  /** Zone of the wall-clock time in the lines. */
  timeZone: string;
  seed: number;
  logger: Logger;
  /** Longest wait between two attempts to open the line. */
  reopenMaxMs?: number;
}

export interface SerialMeterStats {
  /** Meter lines written (the header not counted). */
  written: number;
  /** Meter lines dropped: the line was not open, or its buffer was full. */
  dropped: number;
  /** Times the line was opened. */
  opened: number;
}

export const SERIAL_HEADER = 'time,meter,pressure,flow,status';

/** `*hh`: the XOR of every byte of `body` (NMEA 0183), as the serial collector's `checksum: nmea` checks it. */
export function nmeaChecksum(body: string): string {
  let sum = 0;
  for (const byte of Buffer.from(body, 'latin1')) sum ^= byte;
  return `*${sum.toString(16).toUpperCase().padStart(2, '0')}`;
}

export interface MeterReading {
  meter: string;
  /** Hundredths of a bar, as the meter prints it. */
  pressure: number;
  /** m³/h, one decimal. */
  flow: number;
}

/** One meter line, with its CRLF. */
export function meterLine(at: Date, timeZone: string, reading: MeterReading): string {
  const body = `${formatGatewayTimestamp(zonedTime(at, timeZone))},${reading.meter},${reading.pressure},${reading.flow.toFixed(1)},OK`;
  return `$${body}${nmeaChecksum(body)}\r\n`;
}

/** Plausible readings that wander slowly: pressure 3.80–4.60 bar, flow 8.0–16.0 m³/h. */
export class MeterReadings {
  private readonly prng: Prng;
  private readonly state: Map<string, { pressure: number; flow: number }>;

  constructor(meters: readonly string[], seed: number) {
    this.prng = new Prng(seed);
    this.state = new Map(
      meters.map((m) => [m, { pressure: this.prng.int(400, 440), flow: this.prng.range(10, 14) }]),
    );
  }

  next(): MeterReading[] {
    return [...this.state.entries()].map(([meter, s]) => {
      s.pressure = Math.min(460, Math.max(380, s.pressure + this.prng.int(-3, 3)));
      s.flow = Math.min(16, Math.max(8, s.flow + this.prng.range(-0.4, 0.4)));
      return { meter, pressure: s.pressure, flow: Math.round(s.flow * 10) / 10 };
    });
  }
}

const errorCode = (error: unknown) => (error as NodeJS.ErrnoException).code ?? '';

export async function startSerialMeter(
  options: SerialMeterOptions,
): Promise<{ stop(): Promise<void>; stats: SerialMeterStats }> {
  const readings = new MeterReadings(options.meters, options.seed);
  const stats: SerialMeterStats = { written: 0, dropped: 0, opened: 0 };
  const reopenMaxMs = options.reopenMaxMs ?? 5_000;
  let handle: FileHandle | undefined;
  let opening: Promise<void> | undefined;
  let writing = false;
  let stopped = false;
  let failures = 0;
  let nextOpenAt = 0;
  let lastOpenError = '';

  const close = async () => {
    const h = handle;
    handle = undefined;
    await h?.close().catch(() => undefined);
  };

  const tryOpen = async () => {
    try {
      // O_NOCTTY: the pty must not become this process's controlling terminal.
      const h = await open(options.path, constants.O_WRONLY | constants.O_NOCTTY | constants.O_NONBLOCK);
      if (stopped) {
        await h.close();
        return;
      }
      handle = h;
      stats.opened++;
      failures = 0;
      lastOpenError = '';
      options.logger.info({ path: options.path, meters: options.meters }, 'serial meters printing');
      // What a meter prints at power-up; the collector's `ignore` skips it.
      await h.write(`${SERIAL_HEADER}\r\n`).catch(() => undefined);
    } catch (error) {
      failures++;
      nextOpenAt = Date.now() + Math.min(reopenMaxMs, 250 * 2 ** Math.min(failures - 1, 10));
      const message = (error as Error).message;
      // Once per kind of failure, not every attempt: socat may simply not be started yet.
      if (message !== lastOpenError)
        options.logger.warn(
          { path: options.path, err: message },
          'cannot open the serial line; trying again',
        );
      lastOpenError = message;
    }
  };

  const tick = async () => {
    const lines = readings.next();
    if (!handle) {
      stats.dropped += lines.length;
      if (!opening && Date.now() >= nextOpenAt)
        opening = tryOpen().finally(() => {
          opening = undefined;
        });
      return;
    }
    // One write at a time: a line whose buffer is full is dropped, never queued.
    if (writing) {
      stats.dropped += lines.length;
      return;
    }
    writing = true;
    const at = new Date();
    const texts = lines.map((r) => meterLine(at, options.timeZone, r));
    try {
      // Non-blocking: with little room left a write may take only the first bytes; the lines it cut off
      // count as dropped (the collector dead-letters the cut line, as it would a real meter's).
      const { bytesWritten } = await handle.write(texts.join(''));
      let end = 0;
      for (const text of texts) {
        end += Buffer.byteLength(text);
        if (end <= bytesWritten) stats.written++;
        else stats.dropped++;
      }
    } catch (error) {
      stats.dropped += lines.length;
      if (errorCode(error) !== 'EAGAIN') {
        // EIO: the other end of the pty pair is gone (socat stopped); a real port: the adapter unplugged.
        options.logger.warn(
          { path: options.path, err: (error as Error).message },
          'serial line lost; opening it again',
        );
        await close();
        nextOpenAt = 0;
      }
    } finally {
      writing = false;
    }
  };

  await tryOpen();
  const timer = setInterval(() => void tick(), options.intervalMs);
  return {
    stats,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await opening;
      await close();
    },
  };
}
