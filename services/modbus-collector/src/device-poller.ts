import {
  type DeviceProfile,
  decodeRead,
  failRead,
  type ModbusFunction,
  type PointReading,
  planDeviceReads,
  type ReadRequest,
  toSamples,
} from '@gridstream/modbus';
import type { Logger } from '@gridstream/runtime';
import type { SourceEndpoint } from '@gridstream/source';
import { AlignedSchedule, monotonicNow, sleepUntil } from './aligned-schedule.js';
import { BREAKER_STATE_VALUE, type BreakerOptions, CircuitBreaker } from './circuit-breaker.js';
import type { CollectorMetrics } from './collector-metrics.js';
import { type ModbusConnection, ReadError, type ReadFunctionCode } from './modbus-connection.js';

const FUNCTION_CODES: Record<ModbusFunction, ReadFunctionCode> = {
  coil: 1,
  discrete_input: 2,
  holding: 3,
  input: 4,
};

export interface DevicePollerOptions {
  name: string;
  /** The profile with this installation's overrides (unit id, site, interval, timeout, retries) applied. */
  profile: DeviceProfile;
  connection: ModbusConnection;
  breaker: BreakerOptions;
  phaseMs: number;
  metrics: CollectorMetrics;
  logger: Logger;
  /**
   * The device's endpoint of the source seam (@gridstream/source): each answered poll is pushed as one
   * samples.v1 message, and the line's state is its connection state.
   */
  output: Pick<SourceEndpoint, 'push' | 'connected' | 'uri'>;
}

export interface DeviceState {
  breaker: string;
  consecutiveFailures: number;
  lastSuccess?: string;
  lastError?: string;
  polls: number;
  skipped: number;
}

/**
 * Polls one device on its aligned schedule and pushes one samples.v1 message per answered poll. A poll
 * holds the device's line for all of its reads (devices on one bus take turns, whole polls at a time),
 * retries each read up to `profile.retries` times, and gives up on the rest of the poll as soon as a
 * read fails for a transport reason (timeout, no connection): a dead device must cost its line one
 * timeout per attempt, not one per planned read.
 */
export class DevicePoller {
  private readonly plan: ReadRequest[];
  private readonly breaker: CircuitBreaker;
  readonly source: string;
  private readonly labels: { device: string };
  private readonly stateValue: DeviceState = {
    breaker: 'closed',
    consecutiveFailures: 0,
    polls: 0,
    skipped: 0,
  };
  private running: Promise<void> | undefined;

  constructor(private readonly options: DevicePollerOptions) {
    const { profile, connection, metrics, name } = options;
    this.plan = planDeviceReads(profile);
    this.source = options.output.uri;
    this.labels = { device: name };
    connection.onState((open, detail) => options.output.connected(open, detail));
    this.breaker = new CircuitBreaker(options.breaker, (from, to) => {
      this.stateValue.breaker = to;
      metrics.breakerState.set(this.labels, BREAKER_STATE_VALUE[to]);
      metrics.breakerTransitions.inc({ ...this.labels, to });
      const log =
        to === 'open' ? options.logger.warn.bind(options.logger) : options.logger.info.bind(options.logger);
      log(
        { device: name, source: this.source, from, to, failures: this.breaker.consecutiveFailures },
        to === 'open'
          ? 'circuit breaker opened: device skipped except for one probe per cool-down'
          : `circuit breaker ${to}`,
      );
    });
    metrics.breakerState.set(this.labels, 0);
    // Zero-valued series from the start, so dashboards and rate() see the device before its first failure.
    metrics.skipped.inc(this.labels, 0);
    metrics.polls.inc({ ...this.labels, outcome: 'ok' }, 0);
    metrics.polls.inc({ ...this.labels, outcome: 'failed' }, 0);
  }

  get name(): string {
    return this.options.name;
  }

  get reads(): readonly ReadRequest[] {
    return this.plan;
  }

  state(): DeviceState {
    return { ...this.stateValue, consecutiveFailures: this.breaker.consecutiveFailures };
  }

  start(signal: AbortSignal): void {
    this.running = this.loop(signal);
  }

  /** Resolves when the loop has ended (after `signal` aborted and the poll in hand finished). */
  async stopped(): Promise<void> {
    await this.running;
  }

  private async loop(signal: AbortSignal): Promise<void> {
    const schedule = new AlignedSchedule(this.options.profile.pollIntervalMs, {
      phaseMs: this.options.phaseMs,
    });
    let slot = 0;
    while (!signal.aborted) {
      await sleepUntil(schedule.at(slot), signal);
      if (signal.aborted) break;
      try {
        await this.pollOnce(schedule.at(slot));
      } catch (error) {
        // pollOnce handles device errors itself; anything here is a bug, which must not end the loop.
        this.options.logger.error({ err: error, device: this.name }, 'poll failed unexpectedly');
      }
      const next = schedule.nextSlot(slot, monotonicNow());
      const skipped = next - slot - 1;
      if (skipped > 0) {
        this.stateValue.skipped += skipped;
        this.options.metrics.skipped.inc(this.labels, skipped);
        this.options.logger.debug({ device: this.name, skipped }, 'poll overran its interval; slots skipped');
      }
      slot = next;
    }
  }

  /**
   * One scheduled slot: breaker check, the reads, decoding, and the message. The breaker is timed in
   * slot times, not in when a poll happened to run: a cool-down of one interval then means exactly the
   * next slot, where wall-clock jitter of a millisecond would otherwise push the probe a whole slot later.
   */
  async pollOnce(slotTime = monotonicNow()): Promise<void> {
    const { metrics, profile, connection, logger } = this.options;
    const admission = this.breaker.admit(slotTime);
    if (admission === 'skip') {
      metrics.polls.inc({ ...this.labels, outcome: 'breaker_open' });
      return;
    }
    this.stateValue.polls++;
    const attempts = admission === 'probe' ? 1 : profile.retries + 1;
    const started = monotonicNow();
    const result = await connection.exclusive(() => this.readAll(attempts));
    metrics.pollDuration.observe(this.labels, (monotonicNow() - started) / 1000);

    if (result.answeredAt === undefined) {
      this.breaker.recordFailure(slotTime);
      metrics.polls.inc({ ...this.labels, outcome: 'failed' });
      const message = result.error?.message ?? 'no read answered';
      if (this.stateValue.lastError !== message || this.breaker.consecutiveFailures === 1) {
        logger.warn(
          {
            device: this.name,
            source: this.source,
            failures: this.breaker.consecutiveFailures,
            err: message,
          },
          'poll failed',
        );
      }
      this.stateValue.lastError = message;
      // Alone on its connection, a silent device may sit behind a dead socket: reconnect next time.
      // (On a shared line the others' answers prove the connection, and reconnecting would disturb them.)
      if (result.error?.reason === 'timeout' && connection.users === 1) connection.reset();
      return;
    }

    this.breaker.recordSuccess();
    if (this.stateValue.lastError !== undefined && result.failedReads === 0) {
      logger.info({ device: this.name, source: this.source }, 'device answers again');
      delete this.stateValue.lastError;
    }
    metrics.polls.inc({ ...this.labels, outcome: result.failedReads > 0 ? 'partial' : 'ok' });
    this.stateValue.lastSuccess = result.answeredAt.toISOString();

    let outOfRange = 0;
    let bad = 0;
    for (const reading of result.readings) {
      if (reading.outOfRange) outOfRange++;
      if (reading.bad) bad++;
    }
    if (outOfRange > 0) metrics.outOfRange.inc(this.labels, outOfRange);
    if (bad > 0) metrics.badValues.inc(this.labels, bad);

    // One site and at most maxSamplesPerMessage samples (≥ any poll's, see the service): one message. In the
    // disk spool once push returns.
    this.options.output.push(toSamples(profile.site, result.readings, result.answeredAt), {
      receivedAt: new Date(),
    });
  }

  private async readAll(attempts: number): Promise<{
    readings: PointReading[];
    answeredAt?: Date;
    failedReads: number;
    error?: ReadError;
  }> {
    const { profile, connection, metrics } = this.options;
    const readings: PointReading[] = [];
    let answeredAt: Date | undefined;
    let failedReads = 0;
    let lastError: ReadError | undefined;
    let abandoned: string | undefined;
    for (const request of this.plan) {
      if (abandoned !== undefined) {
        readings.push(...failRead(request, abandoned));
        continue;
      }
      let data: number[] | boolean[] | undefined;
      for (let attempt = 1; attempt <= attempts && data === undefined; attempt++) {
        const sent = monotonicNow();
        try {
          data = await connection.read({
            unitId: profile.unitId,
            functionCode: FUNCTION_CODES[request.function],
            address: request.address,
            count: request.count,
            timeoutMs: profile.timeoutMs,
          });
          metrics.readLatency.observe(this.labels, (monotonicNow() - sent) / 1000);
        } catch (error) {
          lastError = error instanceof ReadError ? error : new ReadError('invalid_response', String(error));
          metrics.readFailures.inc({ ...this.labels, reason: lastError.reason });
          if (!lastError.retriable) break;
        }
      }
      if (data === undefined) {
        failedReads++;
        metrics.reads.inc({ ...this.labels, outcome: 'failed' });
        const reason = lastError?.message ?? 'read failed';
        readings.push(...failRead(request, reason));
        // The device answered (with an exception): other blocks may still be fine. Silence or a lost
        // connection means the rest would only time out too.
        if (lastError?.retriable) abandoned = reason;
        continue;
      }
      answeredAt ??= new Date();
      metrics.reads.inc({ ...this.labels, outcome: 'ok' });
      readings.push(...decodeRead(request, data));
    }
    const out: { readings: PointReading[]; answeredAt?: Date; failedReads: number; error?: ReadError } = {
      readings,
      failedReads,
    };
    if (answeredAt) out.answeredAt = answeredAt;
    if (lastError) out.error = lastError;
    return out;
  }
}
