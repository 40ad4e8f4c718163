import type { Logger } from '@gridstream/runtime';
import modbusSerial from 'modbus-serial';
import type { ConnectionConfig } from './collector-config.js';

// modbus-serial is CommonJS: its module object is the client class, which TypeScript sees as `.default`
// (module.exports.default points back at it, so both views agree at run time).
const ModbusRTU = modbusSerial.default;
type ModbusRTU = InstanceType<typeof ModbusRTU>;

/** Function codes the collector reads: coils, discrete inputs, holding and input registers. */
export type ReadFunctionCode = 1 | 2 | 3 | 4;

export interface ReadRequest {
  unitId: number;
  functionCode: ReadFunctionCode;
  address: number;
  count: number;
  timeoutMs: number;
}

/**
 * Why a read failed, closed list (the `reason` label of the failure metric). Each says whether the
 * next attempt could succeed: an exception reply (illegal address) will not change by retrying now.
 */
export const READ_FAILURES = {
  connect: { retriable: true }, // could not open the socket / serial port
  timeout: { retriable: true }, // no (complete) answer within the device's timeout
  disconnected: { retriable: true }, // the connection dropped while the request was out
  exception: { retriable: false }, // the slave answered with a Modbus exception code
  invalid_response: { retriable: true }, // wrong length / CRC / unit id in the answer
} as const;
export type ReadFailureReason = keyof typeof READ_FAILURES;

export class ReadError extends Error {
  constructor(
    readonly reason: ReadFailureReason,
    message: string,
    readonly modbusCode?: number,
  ) {
    super(message);
    this.name = 'ReadError';
  }

  get retriable(): boolean {
    return READ_FAILURES[this.reason].retriable;
  }
}

/** `modbus://host:port` or `modbus:///dev/ttyUSB0` (the gs-source header adds `/unit/<id>`). */
export function connectionUrl(config: ConnectionConfig): string {
  return config.transport === 'rtu' ? `modbus://${config.path}` : `modbus://${config.host}:${config.port}`;
}

/**
 * One Modbus line: a TCP socket, a serial port (RS485) or an RTU-over-TCP socket to a serial gateway.
 * Requests are serialised — one transaction on the line at a time — because an RS485 bus is half-duplex
 * and most serial gateways mishandle pipelined requests; devices sharing a connection therefore share
 * this queue. The line is opened lazily and reopened after it drops, on the next request, with a fresh
 * client each time (modbus-serial's ports cannot be reopened after a close).
 */
export class ModbusConnection {
  private client: ModbusRTU | undefined;
  private opening: Promise<ModbusRTU> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly listeners: ((open: boolean, detail: string) => void)[] = [];
  private stateOpen = false;
  readonly url: string;

  constructor(
    readonly config: ConnectionConfig,
    private readonly logger: Logger,
  ) {
    this.url = connectionUrl(config);
  }

  /** Devices polled over this connection (set by the service). */
  users = 0;

  get isOpen(): boolean {
    return this.client?.isOpen === true;
  }

  /**
   * Told when the line opens (`true`) and when it is lost or cannot be opened (`false`, with why): the
   * devices on it report it as their endpoint's connection state (gridstream_source_connected).
   */
  onState(listener: (open: boolean, detail: string) => void): void {
    this.listeners.push(listener);
  }

  /**
   * `lost` only tells of a line that was open (a line already down keeps the reason it went down for); a
   * failed attempt to open always does, so the state says why the line stays down.
   */
  private setState(open: boolean, detail: string, how: 'changed' | 'lost' | 'failed'): void {
    if (how === 'lost' && !this.stateOpen) return;
    this.stateOpen = open;
    for (const listener of this.listeners) listener(open, detail);
  }

  /** Runs `fn` with the line to itself (no other transaction interleaves). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** One read transaction. Call inside `exclusive` when several reads must not interleave with others. */
  async read(request: ReadRequest): Promise<number[] | boolean[]> {
    const client = await this.open();
    client.setID(request.unitId);
    client.setTimeout(request.timeoutMs);
    try {
      switch (request.functionCode) {
        case 1:
          return (await client.readCoils(request.address, request.count)).data.slice(0, request.count);
        case 2:
          return (await client.readDiscreteInputs(request.address, request.count)).data.slice(
            0,
            request.count,
          );
        case 3:
          return (await client.readHoldingRegisters(request.address, request.count)).data;
        case 4:
          return (await client.readInputRegisters(request.address, request.count)).data;
      }
    } catch (error) {
      throw this.classify(error);
    }
  }

  /**
   * Closes the socket so that the next request opens a new one. After a device stopped answering on a
   * connection of its own: a TCP connection whose peer vanished without a FIN (power cut, new DHCP
   * lease, gateway reboot) would otherwise time out forever instead of reconnecting to the new peer.
   */
  reset(): void {
    this.drop('closed after a timeout, to reconnect');
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    this.drop('collector stopping');
  }

  private async open(): Promise<ModbusRTU> {
    if (this.closed) throw new ReadError('disconnected', `${this.url}: connection closed`);
    if (this.client?.isOpen) return this.client;
    this.drop('connection closed');
    this.opening ??= this.connect().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async connect(): Promise<ModbusRTU> {
    const client = new ModbusRTU();
    // modbus-serial emits 'error' on serial port errors; an EventEmitter 'error' without a listener
    // would crash the process. The failing transaction reports the error to its caller anyway.
    client.on('error', (error: unknown) =>
      this.logger.debug({ err: error, url: this.url }, 'modbus port error'),
    );
    const config = this.config;
    const timeoutMs = config.connectTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const opened = (async () => {
      switch (config.transport) {
        case 'tcp':
          await client.connectTCP(config.host, { port: config.port });
          break;
        case 'rtu-over-tcp':
          // Raw RTU frames (CRC, no MBAP header) on a TCP socket: modbus-serial's TelnetPort. Its
          // similarly named connectTcpRTUBuffered sends MBAP-framed Modbus TCP, which a serial gateway in
          // transparent mode would put on the RS485 line as garbage (seen against pymodbus's RTU framer).
          await client.connectTelnet(config.host, { port: config.port });
          break;
        case 'rtu':
          await client.connectRTUBuffered(config.path, {
            baudRate: config.baudRate,
            parity: config.parity,
            dataBits: config.dataBits,
            stopBits: config.stopBits,
          });
          break;
      }
    })();
    try {
      await Promise.race([
        opened,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no connection within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (error) {
      opened.catch(() => undefined); // a late failure of the abandoned attempt is not news
      destroy(client);
      const failure = new ReadError('connect', `${this.url}: ${(error as Error).message ?? String(error)}`);
      this.setState(false, failure.message, 'failed');
      throw failure;
    } finally {
      clearTimeout(timer);
    }
    if (this.closed) {
      destroy(client);
      throw new ReadError('disconnected', `${this.url}: connection closed`);
    }
    client.on('close', () => {
      this.logger.info({ url: this.url }, 'modbus connection closed');
      if (this.client === client) this.setState(false, 'connection closed by the peer', 'lost');
    });
    this.client = client;
    this.logger.info({ url: this.url }, 'modbus connection open');
    this.setState(true, 'connected', 'changed');
    return client;
  }

  private drop(why = 'closed'): void {
    if (this.client) {
      destroy(this.client);
      this.setState(false, why, 'lost');
    }
    this.client = undefined;
  }

  private classify(error: unknown): ReadError {
    const e = error as { message?: string; errno?: string; modbusCode?: number; name?: string };
    const message = `${this.url}: ${e.message ?? String(error)}`;
    if (typeof e.modbusCode === 'number') return new ReadError('exception', message, e.modbusCode);
    // A late answer to a timed-out request is harmless: TCP matches transaction ids, and the buffered
    // RTU ports only accept a frame with the expected unit id, function code, length and CRC.
    if (e.errno === 'ETIMEDOUT' || e.name === 'TransactionTimedOutError')
      return new ReadError('timeout', message);
    if (e.name === 'PortNotOpenError' || !this.client?.isOpen) {
      this.drop(`connection lost: ${e.message ?? String(error)}`);
      return new ReadError('disconnected', message);
    }
    return new ReadError('invalid_response', message);
  }
}

function destroy(client: ModbusRTU): void {
  try {
    client.destroy(() => undefined);
  } catch {
    // already gone
  }
}
