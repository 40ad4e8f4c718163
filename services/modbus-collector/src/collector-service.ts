import { type DeviceProfile, loadProfile } from '@gridstream/modbus';
import type { Logger, RunningService, ServiceContext } from '@gridstream/runtime';
import { openSource } from '@gridstream/source';
import {
  CollectorConfigError,
  type ConnectionConfig,
  type DeviceConfig,
  loadCollectorConfig,
} from './collector-config.js';
import { collectorMetrics } from './collector-metrics.js';
import type { ModbusCollectorConfig } from './config.js';
import { DevicePoller } from './device-poller.js';
import { connectionUrl, ModbusConnection } from './modbus-connection.js';

/** Cool-down of a device's breaker on a shared line, in poll intervals (see BreakerSchema). */
const SHARED_LINE_COOLDOWN_INTERVALS = 5;

export interface ResolvedDevice {
  name: string;
  connection: ConnectionConfig;
  profile: DeviceProfile;
  config: DeviceConfig;
  breaker: { failureThreshold: number; coolDownMs: number };
}

/** Loads every profile and applies the installation's overrides; names every problem at once. */
export async function resolveDevices(
  connections: ConnectionConfig[],
  defaultSite: string | undefined,
  logger: Logger,
): Promise<ResolvedDevice[]> {
  const devices: ResolvedDevice[] = [];
  const problems: string[] = [];
  const names = new Set<string>();
  for (const connection of connections) {
    for (const device of connection.devices) {
      let base: DeviceProfile;
      try {
        base = (await loadProfile(device.profile)).profile;
      } catch (error) {
        problems.push((error as Error).message);
        continue;
      }
      const profile: DeviceProfile = {
        ...base,
        unitId: device.unitId ?? base.unitId,
        site: device.site ?? defaultSite ?? base.site,
        pollIntervalMs: device.pollIntervalMs ?? base.pollIntervalMs,
        timeoutMs: device.timeoutMs ?? base.timeoutMs,
        retries: device.retries ?? base.retries,
      };
      const name = device.name ?? `${base.name}-${profile.unitId}`;
      if (names.has(name))
        problems.push(`device name ${name} is used twice: set a distinct name for each device`);
      names.add(name);
      if (profile.timeoutMs >= profile.pollIntervalMs) {
        problems.push(
          `${name}: timeoutMs ${profile.timeoutMs} must be below pollIntervalMs ${profile.pollIntervalMs}: a silent device would hold every cycle past its slot`,
        );
      }
      const worst = profile.timeoutMs * (profile.retries + 1);
      if (worst >= profile.pollIntervalMs) {
        // Judged after this installation's overrides, which is what actually runs.
        logger.warn(
          {
            device: name,
            timeoutMs: profile.timeoutMs,
            retries: profile.retries,
            pollIntervalMs: profile.pollIntervalMs,
          },
          'timeout × attempts is not below the poll interval: while the device is silent its polls overrun and skip slots (until the breaker opens)',
        );
      }
      const shared = connection.devices.length > 1;
      devices.push({
        name,
        connection,
        profile,
        config: device,
        breaker: {
          failureThreshold: device.breaker?.failureThreshold ?? 3,
          coolDownMs:
            device.breaker?.coolDownMs ??
            (shared ? SHARED_LINE_COOLDOWN_INTERVALS * profile.pollIntervalMs : profile.pollIntervalMs),
        },
      });
    }
  }
  if (problems.length > 0) throw new CollectorConfigError(problems.join('\n'));
  return devices;
}

/**
 * Modbus devices → samples.v1 on telemetry.raw. Each device polls on its own aligned schedule; devices
 * on one connection take turns on the line. Answered polls go through the source seam (@gridstream/source):
 * one endpoint per device (`modbus://host:port/unit/N`), appended to its disk spool, which one producer
 * drains in order: a Kafka outage never stops or delays polling (a Modbus device keeps no history, so a
 * poll not taken is a reading lost for good), and a collector killed during the outage sends what it had
 * spooled once it is back (docs/reliability.md).
 */
export async function startModbusCollector(
  ctx: ServiceContext<ModbusCollectorConfig>,
): Promise<RunningService> {
  const { config, logger, metrics, readiness } = ctx;
  const collector = loadCollectorConfig(config.MODBUS_CONFIG);
  const devices = await resolveDevices(collector.connections, collector.site, logger);

  // Kafka is connected to in the background, not here: the collector polls and spools from its first slot
  // even when it starts during a Kafka outage.
  const source = openSource(ctx, {
    kind: 'modbus',
    service: 'modbus-collector',
    // One poll is one message: a poll gives at most one sample per point (and one site).
    maxSamplesPerMessage: Math.max(500, ...devices.map((d) => d.profile.points.length)),
    maxBatch: config.MODBUS_PRODUCE_BATCH,
  });

  const m = collectorMetrics(metrics);
  const connections = new Map<ConnectionConfig, ModbusConnection>();
  const pollers = devices.map((device) => {
    let connection = connections.get(device.connection);
    if (!connection) {
      connection = new ModbusConnection(device.connection, logger);
      connections.set(device.connection, connection);
    }
    connection.users++;
    return new DevicePoller({
      name: device.name,
      profile: device.profile,
      connection,
      breaker: device.breaker,
      phaseMs: device.config.phaseMs,
      metrics: m,
      logger,
      output: source.endpoint({
        name: device.name,
        uri: `${connectionUrl(device.connection)}/unit/${device.profile.unitId}`,
        site: device.profile.site,
        // device:<name> below is the device's own check (breaker, failures), never failing.
        readiness: false,
      }),
    });
  });

  // A silent device does not make the collector unready (restarting it would not revive the device);
  // its state is reported here for operators, and alerts come from the breaker state and
  // gridstream_source_last_sample_timestamp_seconds.
  for (const poller of pollers) {
    readiness.add(`device:${poller.name}`, () => {
      const s = poller.state();
      const parts = [`breaker ${s.breaker}`, `${s.consecutiveFailures} consecutive failures`];
      if (s.lastSuccess) parts.push(`last ok ${s.lastSuccess}`);
      if (s.lastError) parts.push(`last error: ${s.lastError}`);
      return { ok: true, detail: parts.join('; ') };
    });
  }

  const abort = new AbortController();
  for (const poller of pollers) poller.start(abort.signal);
  logger.info(
    {
      devices: devices.map((d) => ({
        name: d.name,
        source: pollers.find((p) => p.name === d.name)?.source,
        intervalMs: d.profile.pollIntervalMs,
        reads: pollers.find((p) => p.name === d.name)?.reads.length,
        points: d.profile.points.length,
      })),
    },
    'polling',
  );

  return {
    async stop() {
      abort.abort(); // stop intake: no new polls; the ones in flight finish
      await Promise.all(pollers.map((p) => p.stopped()));
      await Promise.all([...connections.values()].map((c) => c.close()));
      // What Kafka does not take before the deadline stays in the spool and goes first after the restart.
      await source.close(Date.now() + Math.floor(config.SHUTDOWN_TIMEOUT_MS / 2));
    },
  };
}
