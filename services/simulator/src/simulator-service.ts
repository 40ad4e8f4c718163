import { AmqpPublisher, amqpConfigFromEnv, describeAmqpUrl } from '@gridstream/amqp';
import { type RunningService, type ServiceContext, sleep } from '@gridstream/runtime';
import { Counter, Gauge } from 'prom-client';
import { type SimulatorConfig, siteIds } from './config.js';
import {
  createMicrogridSite,
  expectedRecordCount,
  type MicrogridSite,
  type SiteShape,
} from './microgrid-generator.js';
import { seedFor } from './prng.js';
import { RateSchedule } from './rate-schedule.js';

const LOG_EVERY_MS = 10_000;

export interface SimulatorOptions {
  /** Called once when SIM_MESSAGES were all published and confirmed (main turns it into a clean exit). */
  onFinished?: () => void;
}

/**
 * Publishes gateway messages for SIM_SITES sites at SIM_RATE messages/s in total, round-robin over the
 * sites, each confirmed by the broker. A publish that fails (connection lost before the confirm) is sent
 * again with the same message id: at-least-once, like a gateway that retries.
 */
export async function startSimulator(
  ctx: ServiceContext<SimulatorConfig>,
  options: SimulatorOptions = {},
): Promise<RunningService> {
  const { config, logger, metrics, readiness } = ctx;
  const amqp = amqpConfigFromEnv(config);
  const shape: SiteShape = {
    batteries: config.SIM_BATTERIES,
    racksPerBattery: config.SIM_RACKS_PER_BATTERY,
    converters: config.SIM_CONVERTERS,
    inverters: config.SIM_INVERTERS,
    transformers: config.SIM_TRANSFORMERS,
    pvs: config.SIM_PVS,
    evChargers: config.SIM_EV_CHARGERS,
  };
  const sites: MicrogridSite[] = siteIds(config.SIM_SITES).map((siteId) =>
    createMicrogridSite({
      siteId,
      seed: seedFor(config.SIM_SEED, siteId),
      timestampPrecision: config.SIM_TIMESTAMP_PRECISION,
      ...shape,
    }),
  );
  const perSiteRate = config.SIM_RATE / sites.length;
  if (perSiteRate > 1 && config.SIM_TIMESTAMP_PRECISION === 's') {
    logger.warn(
      { perSiteRate },
      'more than one message per second per site with second-resolution timestamps: downstream, readings of ' +
        'the same second overwrite each other; set SIM_TIMESTAMP_PRECISION=ms to keep them all',
    );
  }

  const publisher = new AmqpPublisher({
    amqp,
    declare: config.SIM_DECLARE,
    connectionName: `gridstream-simulator-${process.pid}`,
    logger,
  });
  readiness.add('rabbitmq', () =>
    publisher.connected ? { ok: true } : { ok: false, detail: publisher.lastErrorMessage ?? 'connecting' },
  );

  const confirmed = new Counter({
    name: 'gridstream_simulator_messages_confirmed_total',
    help: 'Messages published and confirmed by the broker',
    registers: [metrics],
  });
  const retried = new Counter({
    name: 'gridstream_simulator_publish_retries_total',
    help: 'Publishes sent again after the broker did not confirm them',
    registers: [metrics],
  });
  const skippedTotal = new Counter({
    name: 'gridstream_simulator_messages_skipped_total',
    help: 'Scheduled messages not sent because the simulator fell behind (broker slow or down)',
    registers: [metrics],
  });
  const inFlightGauge = new Gauge({
    name: 'gridstream_simulator_in_flight',
    help: 'Published messages waiting for a broker confirm',
    registers: [metrics],
  });

  let stopping = false;
  // Cuts retry backoffs short on stop.
  const stopSignal = new AbortController();
  let scheduled = 0;
  let confirmedCount = 0;
  let retries = 0;
  let skipped = 0;
  let unconfirmedAtStop = 0;
  const inFlight = new Set<Promise<void>>();
  let wake: (() => void) | undefined;
  const limit = config.SIM_MESSAGES ?? Number.POSITIVE_INFINITY;

  /** Publishes one message until it is confirmed or the simulator stops. */
  async function send(site: MicrogridSite, body: Buffer, dueMs: number): Promise<void> {
    const messageId = `${site.siteId}-${site.sequence}`;
    for (let attempt = 1; ; attempt++) {
      try {
        await publisher.publish(`site.${site.siteId}`, body, {
          messageId,
          timestamp: Math.floor(dueMs / 1000),
          contentType: 'application/json',
          appId: 'gridstream-simulator',
        });
        confirmedCount += 1;
        confirmed.inc();
        return;
      } catch (err) {
        if (stopping) {
          unconfirmedAtStop += 1;
          return;
        }
        retries += 1;
        retried.inc();
        logger.debug({ err, messageId, attempt }, 'publish not confirmed; sending again');
        await sleep(Math.min(5_000, 100 * 2 ** Math.min(attempt, 6)), stopSignal.signal);
      }
    }
  }

  function track(p: Promise<void>): void {
    inFlight.add(p);
    inFlightGauge.set(inFlight.size);
    void p.finally(() => {
      inFlight.delete(p);
      inFlightGauge.set(inFlight.size);
      wake?.();
    });
  }

  const sleepOrWake = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.max(0, ms));
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  /** The scheduling loop; returns when the limit is reached or on stop, without waiting for confirms. */
  async function run(): Promise<void> {
    // Start the clock only once the broker is there, so the first seconds are not skipped as "behind".
    await publisher.connect().catch(() => {});
    const schedule = new RateSchedule(config.SIM_RATE, Date.now());
    let siteIndex = 0;
    while (!stopping && scheduled < limit) {
      const room = config.SIM_MAX_IN_FLIGHT - inFlight.size;
      if (room <= 0) {
        await sleepOrWake(1_000);
        continue;
      }
      const { due, skipped: missed } = schedule.take(Date.now(), Math.min(room, limit - scheduled));
      if (missed > 0) {
        skipped += missed;
        skippedTotal.inc(missed);
        logger.warn({ missed }, 'fell behind schedule (broker slow or unreachable); skipped messages');
      }
      for (const dueMs of due) {
        const site = sites[siteIndex]!;
        siteIndex = (siteIndex + 1) % sites.length;
        const body = site.next(new Date(dueMs), config.SIM_TIMEZONE);
        scheduled += 1;
        track(send(site, body, dueMs));
      }
      if (scheduled >= limit) break;
      await sleepOrWake(schedule.nextDueAt() - Date.now());
    }
  }

  const drain = () => Promise.allSettled([...inFlight]);

  let lastLogAt = Date.now();
  let lastConfirmed = 0;
  const progress = setInterval(() => {
    const now = Date.now();
    const rate = ((confirmedCount - lastConfirmed) * 1000) / (now - lastLogAt);
    lastLogAt = now;
    lastConfirmed = confirmedCount;
    logger.info(
      {
        scheduled,
        confirmed: confirmedCount,
        inFlight: inFlight.size,
        retries,
        skipped,
        ratePerSecond: Math.round(rate * 10) / 10,
        connected: publisher.connected,
      },
      'simulator progress',
    );
  }, LOG_EVERY_MS);
  progress.unref();

  logger.info(
    {
      broker: describeAmqpUrl(amqp.connection),
      exchange: amqp.topology.exchange,
      sites: sites.map((s) => s.siteId),
      ratePerSecond: config.SIM_RATE,
      messages: config.SIM_MESSAGES ?? 'unlimited',
      recordsPerMessage: expectedRecordCount(shape),
      timeZone: config.SIM_TIMEZONE,
    },
    'simulating microgrid gateways',
  );
  const loop = run().catch((err) => logger.error({ err }, 'simulator loop failed'));
  // Finite mode: once everything scheduled is confirmed, hand over to the ordinary shutdown.
  void loop.then(async () => {
    await drain();
    if (!stopping) {
      logger.info({ confirmed: confirmedCount, retries, skipped }, 'all messages published and confirmed');
      options.onFinished?.();
    }
  });

  return {
    async stop() {
      // Stop scheduling; close() waits for the confirms of everything already written to the channel and
      // fails publishes still waiting for a connection, which are then not retried.
      stopping = true;
      stopSignal.abort();
      wake?.();
      // Closing first also releases a loop still waiting for its first connection.
      await publisher.close();
      await loop;
      await drain();
      clearInterval(progress);
      logger.info(
        { scheduled, confirmed: confirmedCount, unconfirmedAtStop, retries, skipped },
        'simulator stopped',
      );
    },
  };
}
