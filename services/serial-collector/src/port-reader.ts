import { backoffDelay, type Logger } from '@gridstream/runtime';
import type { Sample } from '@gridstream/schema';
import type { SourceEndpoint } from '@gridstream/source';
import { ReadlineParser } from '@serialport/parser-readline';
import { SerialPort } from 'serialport';
import { LineReader } from './line-reader.js';
import type { ResolvedPort } from './serial-config.js';
import type { SerialMetrics } from './serial-metrics.js';

interface Line {
  bytes: Buffer;
  at: Date;
}

/**
 * One serial port: opens it, splits what it reads into lines (@serialport/parser-readline), reads each line
 * (LineReader) and hands samples and bad lines to the source. A port that cannot be opened or that vanishes
 * (a USB adapter unplugged, EIO from a closed pty) is opened again with backoff, for ever; meanwhile the
 * port's readiness is false and `gridstream_source_connected` 0. What a meter prints while the port is closed
 * is lost, as on any UART (and the port's input buffer is flushed when it opens).
 */
export class PortReader {
  private port: SerialPort | undefined;
  private parser: LineSplitter | undefined;
  private readonly reader: LineReader;
  private readonly log: Logger;
  private stopped = false;
  private attempts = 0;
  private retry: NodeJS.Timeout | undefined;
  private lines: Line[] = [];
  private flushScheduled = false;
  private closing: Promise<void> | undefined;
  /** A line past maxLineBytes: its first bytes, and how long it is so far. */
  private overlong: { head: Buffer; total: number; at: Date } | undefined;

  constructor(
    readonly config: ResolvedPort,
    private readonly endpoint: SourceEndpoint,
    private readonly metrics: SerialMetrics,
    logger: Logger,
  ) {
    this.reader = new LineReader(config);
    this.log = logger.child({ port: config.name, path: config.path });
  }

  start(): void {
    this.open();
  }

  /** Stops reading: the port is closed, lines read so far are handed over, a cut-off line is dead-lettered. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.teardown('the collector stopped before the line ended');
  }

  private open(): void {
    if (this.stopped) return;
    const c = this.config;
    const port = new SerialPort({
      path: c.path,
      baudRate: c.baudRate,
      dataBits: c.dataBits,
      parity: c.parity,
      stopBits: c.stopBits,
      autoOpen: false,
    });
    port.open((error) => {
      if (this.stopped) {
        if (!error) port.close();
        return;
      }
      if (error) {
        this.attempts++;
        this.metrics.openFailures.inc({ endpoint: c.name });
        this.endpoint.connected(false, `cannot open ${c.path}: ${error.message}`);
        if (this.attempts === 1 || this.attempts % 20 === 0)
          this.log.warn({ err: error, attempts: this.attempts }, 'cannot open the port; trying again');
        this.scheduleOpen();
        return;
      }
      if (this.attempts > 0) this.log.info({ attempts: this.attempts }, 'port open again');
      else this.log.info({ baudRate: c.baudRate, settings: settings(c) }, 'port open');
      this.attempts = 0;
      this.attach(port);
    });
  }

  private attach(port: SerialPort): void {
    const c = this.config;
    this.port = port;
    const parser = new LineSplitter(c.delimiter);
    this.parser = parser;
    port.on('data', (chunk: Buffer) => {
      const at = new Date();
      this.metrics.bytes.inc({ endpoint: c.name }, chunk.length);
      for (const bytes of parser.split(chunk)) {
        if (this.overlong) {
          // The end of a line that was already too long: one letter for all of it.
          this.overlong.total += bytes.length;
          this.endOverlong();
        } else if (bytes.length > c.maxLineBytes) {
          this.overlong = { head: bytes.subarray(0, c.maxLineBytes), total: bytes.length, at };
          this.endOverlong();
        } else this.lines.push({ bytes, at });
      }
      // A run without a delimiter past maxLineBytes (a meter at the wrong baud rate, a stuck transmitter):
      // its first bytes are kept, the rest only counted until its end, never held without bound.
      if (parser.buffer.length > c.maxLineBytes) {
        if (this.overlong) this.overlong.total += parser.buffer.length;
        else
          this.overlong = {
            head: Buffer.from(parser.buffer.subarray(0, c.maxLineBytes)),
            total: parser.buffer.length,
            at,
          };
        parser.buffer = Buffer.alloc(0);
      }
      this.scheduleFlush();
    });
    const lost = (why: string) => {
      if (this.port !== port || this.stopped) return;
      this.log.warn({ reason: why }, 'port lost; opening it again');
      void this.teardown('the port closed before the line ended').then(() => {
        this.endpoint.connected(false, `${c.path} lost: ${why}`);
        this.scheduleOpen();
      });
    };
    port.on('close', (error: Error | null) => lost(error?.message ?? 'closed'));
    port.on('error', (error: Error) => lost(error.message));
    port.on('end', () => lost('end of input'));
    this.endpoint.connected(true, `${c.path} open, ${c.baudRate} ${settings(c)}`);
  }

  /** Closes the current port (if any); lines read are handed over, a partial line is dead-lettered. */
  private teardown(partialWhy: string): Promise<void> {
    this.closing ??= (async () => {
      const port = this.port;
      const parser = this.parser;
      this.port = undefined;
      this.parser = undefined;
      this.flush();
      if (this.overlong) {
        this.overlong.total += parser?.buffer.length ?? 0;
        if (parser) parser.buffer = Buffer.alloc(0);
        this.endOverlong();
      } else if (parser && parser.buffer.length > 0) {
        const rest = Buffer.from(parser.buffer);
        parser.buffer = Buffer.alloc(0);
        this.bad({ bytes: rest, at: new Date() }, 'incomplete', partialWhy);
      }
      if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
      port?.removeAllListeners('data');
    })().finally(() => {
      this.closing = undefined;
    });
    return this.closing;
  }

  private scheduleOpen(): void {
    if (this.stopped || this.retry) return;
    const delay = backoffDelay(Math.max(1, this.attempts), 250, this.config.reconnectMaxMs);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.open();
    }, delay);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // The lines of one read go out as one push (one message per site), not one message per line.
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.lines.length === 0) return;
    const lines = this.lines;
    this.lines = [];
    const name = this.config.name;
    let samples: Sample[] = [];
    let receivedAt: Date | undefined;
    const push = () => {
      if (samples.length > 0) this.endpoint.push(samples, { receivedAt: receivedAt! });
      samples = [];
    };
    for (const line of lines) {
      const result = this.reader.read(line.bytes, line.at);
      if (result.kind === 'sample') {
        if (receivedAt !== undefined && receivedAt.getTime() !== line.at.getTime()) push();
        receivedAt = line.at;
        samples.push(result.sample);
        this.metrics.lines.inc({ endpoint: name, outcome: 'sample' });
      } else if (result.kind === 'skip') {
        this.metrics.lines.inc({ endpoint: name, outcome: result.why });
      } else {
        // In the order they were read: the samples before a bad line are spooled before its letter.
        push();
        this.bad(line, result.reason, result.message);
      }
    }
    push();
  }

  /** Dead-letters the over-long line (after the lines read before it): one letter per line, however it arrived. */
  private endOverlong(): void {
    const { head, total, at } = this.overlong!;
    this.overlong = undefined;
    const max = this.config.maxLineBytes;
    this.flush();
    this.bad(
      { bytes: head, at },
      'oversized',
      `a line of ${total} bytes, longer than maxLineBytes (${max}): its first ${max} bytes are kept`,
    );
  }

  private bad(line: Line, reason: Parameters<SourceEndpoint['deadLetter']>[1], message: string): void {
    this.metrics.lines.inc({ endpoint: this.config.name, outcome: 'bad' });
    this.endpoint.deadLetter(line.bytes, reason, message, { receivedAt: line.at });
  }
}

/**
 * @serialport/parser-readline's splitting, synchronously and in bytes: what it would push is returned from
 * `split`, and what waits for its delimiter stays in `buffer` (a line cut off when the port closes, a run
 * past maxLineBytes).
 */
class LineSplitter extends ReadlineParser {
  private out: Buffer[] = [];

  constructor(delimiter: string) {
    // No encoding: lines stay bytes, so a bad one is dead-lettered exactly as it came.
    super({ delimiter: Buffer.from(delimiter, 'utf8'), encoding: undefined as unknown as BufferEncoding });
  }

  override push(chunk: unknown): boolean {
    if (Buffer.isBuffer(chunk)) this.out.push(Buffer.from(chunk));
    return true;
  }

  split(chunk: Buffer): Buffer[] {
    this._transform(chunk, 'binary', () => undefined);
    const lines = this.out;
    this.out = [];
    return lines;
  }
}

function settings(c: ResolvedPort): string {
  return `${c.dataBits}${c.parity[0]!.toUpperCase()}${c.stopBits}`;
}
