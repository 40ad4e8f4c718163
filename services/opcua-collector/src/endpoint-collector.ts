import {
  type ApplicationPki,
  closeQuietly,
  createClient,
  describeOpcuaError,
  resolveNodeRefs,
  type SecurityModeName,
  type SecurityPolicyName,
  scalarOf,
  severityOf,
  shortPolicyName,
  usableTimestamp,
  userIdentityInfo,
  withTimeout,
} from '@gridstream/opcua';
import { backoffDelay, type Logger, sleep } from '@gridstream/runtime';
import type { Sample } from '@gridstream/schema';
import type { SourceEndpoint } from '@gridstream/source';
import {
  AttributeIds,
  type ClientMonitoredItemBase,
  ClientMonitoredItemGroup,
  type ClientSession,
  type ClientSubscription,
  DataChangeFilter,
  DataChangeTrigger,
  type DataValue,
  DeadbandType,
  type EndpointDescription,
  MessageSecurityMode,
  type MonitoringParametersOptions,
  type NodeId,
  type OPCUAClient,
  readOperationLimits,
  TimestampsToReturn,
} from 'node-opcua-client';
import type { Counter } from 'prom-client';
import {
  CONNECTION_STATES,
  type CollectorMetrics,
  type ConnectionState,
  deviceLabels,
} from './collector-metrics.js';
import { chooseEndpoint } from './endpoint-choice.js';
import { AUTO_SECURITY, type Deadband, type EndpointConfig, type PointConfig } from './opcua-config.js';
import { type DeviceSlot, type PointSlot, type Reading, SampleBuffer } from './sample-buffer.js';

export interface EndpointDeps {
  pki: ApplicationPki;
  /** Our certificate's thumbprint, named in "the server refused our certificate" errors. */
  thumbprint: string;
  logger: Logger;
  metrics: CollectorMetrics;
  /** Where its samples go: the endpoint's handle of the source seam (@gridstream/source). */
  output: Pick<SourceEndpoint, 'push' | 'connected'>;
}

const BOOLEAN_DATA_TYPE = 'ns=0;i=1';
const FILTER_REFUSALS = new Set([
  'BadFilterNotAllowed',
  'BadMonitoredItemFilterUnsupported',
  'BadMonitoredItemFilterInvalid',
  'BadDeadbandFilterInvalid',
]);

interface Security {
  mode: SecurityModeName;
  policy: SecurityPolicyName;
}

/** securityMode auto found nothing it may use: its message is the whole explanation. */
class SecurityChoiceError extends Error {}

interface DeviceCounters {
  good: Counter.Internal;
  bad: Counter.Internal;
  uncertain: Counter.Internal;
}

/**
 * Everything about one OPC UA endpoint: the session, what was resolved in it, the subscription (or the
 * poll schedule), and recovery.
 *
 * Recovery has two layers. node-opcua repairs a broken connection itself: it reconnects, reactivates the
 * session or creates a new one, and transfers or recreates the subscription with the monitored items it
 * had — with the NodeIds it had. After every such repair (`session_restored`) we resolve the browse paths
 * again and, if any NodeId moved (a restarted server that numbers its nodes at start-up), recreate the
 * monitored items; node-opcua alone would keep asking for NodeIds that no longer exist. Underneath, a
 * watchdog throws the client away and starts over when no publish response (data or keep-alive) or
 * successful poll arrived for `staleAfterMs`, whatever the reason.
 */
export class EndpointCollector {
  private readonly pointConfigs: PointConfig[] = [];
  private readonly points: PointSlot[] = [];
  private readonly devices: DeviceSlot[] = [];
  private readonly counters = new Map<DeviceSlot, DeviceCounters>();
  private readonly warnedUnsupported = new Set<number>();
  private readonly buffer = new SampleBuffer();
  private readonly abort = new AbortController();
  private readonly log: Logger;

  private state: ConnectionState = 'disconnected';
  private sessionId = '';
  private stopped = false;
  private loop: Promise<void> | undefined;
  private requestRebuild: ((reason: string) => void) | undefined;
  private lastActivityMs = 0;
  private lastFailure = '';
  private repeatedFailures = 0;
  /** The last choice securityMode auto logged: a repeat is logged at debug only. */
  private lastChoice = '';
  private securityLabels: { endpoint: string; mode: string; policy: string } | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private repairTimer: NodeJS.Timeout | undefined;
  private watchdogTimer: NodeJS.Timeout | undefined;

  // Per session:
  private client: OPCUAClient | undefined;
  private nodeIds: (NodeId | undefined)[] = [];
  private subscription: ClientSubscription | undefined;
  private failedItems = 0;
  private pollTimer: NodeJS.Timeout | undefined;
  private pollInFlight = false;
  private restoring: Promise<void> = Promise.resolve();

  constructor(
    readonly config: EndpointConfig,
    private readonly deps: EndpointDeps,
  ) {
    this.log = deps.logger.child({ endpoint: config.name });
    for (const d of config.devices) {
      const slot: DeviceSlot = {
        site: d.site,
        equipment: d.equipment,
        device: d.device,
        key: [d.site, d.equipment, d.device, d.rack].filter((x) => x !== undefined).join('/'),
      };
      if (d.rack !== undefined) slot.rack = d.rack;
      this.devices.push(slot);
      deps.metrics.watch(config.name, slot);
      const labels = deviceLabels(config.name, slot);
      const values = deps.metrics.values;
      this.counters.set(slot, {
        good: values.labels({ ...labels, quality: 'good' }),
        bad: values.labels({ ...labels, quality: 'bad' }),
        uncertain: values.labels({ ...labels, quality: 'uncertain' }),
      });
      for (const p of d.points) {
        this.pointConfigs.push(p);
        this.points.push({ device: slot, field: p.field });
      }
    }
    this.setState('disconnected');
  }

  get pointCount(): number {
    return this.points.length;
  }

  /**
   * Which value each point last took (`<device key>|<field>` → source time and value), for the spool's
   * checkpoint: after a crash the subscription sends every item's current value again, and a value
   * already taken before the crash must be recognised as a re-send, or it would be a second reading.
   */
  pointStates(): Record<string, { t: number; v: string }> {
    const out: Record<string, { t: number; v: string }> = {};
    for (const p of this.points) {
      if (p.lastTsMs !== undefined && p.lastValueKey !== undefined)
        out[`${p.device.key}|${p.field}`] = { t: p.lastTsMs, v: p.lastValueKey };
    }
    return out;
  }

  /** Restores pointStates() from a checkpoint, then the samples spooled after it (idempotent). */
  restorePointStates(states: Record<string, { t: number; v: string }>, after: readonly Sample[]): void {
    const byKey = new Map<string, PointSlot>(this.points.map((p) => [`${p.device.key}|${p.field}`, p]));
    for (const [key, { t, v }] of Object.entries(states)) {
      const p = byKey.get(key);
      if (p) {
        p.lastTsMs = t;
        p.lastValueKey = v;
      }
    }
    for (const sample of after) {
      const deviceKey = [sample.site, sample.equipment, sample.device, sample.rack]
        .filter((x) => x !== undefined)
        .join('/');
      const t = Date.parse(sample.ts);
      const take = (field: string, value: string) => {
        const p = byKey.get(`${deviceKey}|${field}`);
        if (!p || (p.lastTsMs !== undefined && p.lastTsMs > t)) return;
        const flag = sample.quality?.[field]?.[0];
        p.lastTsMs = t;
        p.lastValueKey = `${value}|${flag === 'bad' ? 'bad' : flag === 'uncertain' ? 'uncertain' : 'good'}`;
      };
      for (const [field, value] of Object.entries(sample.fields)) take(field, String(value));
      for (const [field, value] of Object.entries(sample.flags ?? {})) take(field, String(value));
      for (const field of Object.keys(sample.quality ?? {}))
        if (!(field in sample.fields) && !(field in (sample.flags ?? {}))) take(field, '');
    }
  }

  health(): { ok: boolean; detail: string } {
    return {
      ok: this.state === 'connected',
      detail: `${this.state}${this.sessionId ? ` session ${this.sessionId}` : ''}`,
    };
  }

  start(): void {
    const tick = Math.max(20, Math.floor(this.config.bufferMs / 2));
    this.flushTimer = setInterval(() => this.flush(this.config.bufferMs), tick);
    this.watchdogTimer = setInterval(() => this.watchdog(), 1_000);
    this.loop = this.run();
  }

  /** Stops intake and hands every buffered sample to the output (the spool); the caller closes the spool. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    clearInterval(this.watchdogTimer);
    this.requestRebuild?.('stopping');
    // A connect in progress would otherwise hold shutdown for a whole request timeout.
    if (this.client && this.state === 'connecting') void closeQuietly(this.client);
    await this.loop;
    clearInterval(this.flushTimer);
    this.flush(0);
    this.deps.metrics.forget(this.config.name);
  }

  private flush(minAgeMs: number): void {
    const samples = this.buffer.drain(Date.now(), minAgeMs);
    if (samples.length > 0) this.deps.output.push(samples);
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    this.deps.output.connected(state === 'connected', state);
    for (const s of CONNECTION_STATES) {
      this.deps.metrics.connectionState.set({ endpoint: this.config.name, state: s }, s === state ? 1 : 0);
    }
  }

  private watchdog(): void {
    if (this.stopped || !this.requestRebuild) return;
    const idleMs = Date.now() - this.lastActivityMs;
    if (idleMs > this.config.staleAfterMs) {
      this.requestRebuild(`nothing received for ${Math.round(idleMs / 1000)} s`);
    }
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      const served = await this.connectAndServe();
      if (this.stopped) break;
      failures = served ? 0 : failures + 1;
      const delay = served ? 500 : backoffDelay(failures, 500, this.config.reconnectMaxDelayMs);
      await sleep(delay, this.abort.signal);
    }
    this.setState('disconnected');
  }

  /**
   * The security the next client connects with: as configured, or with securityMode auto the strongest
   * endpoint the server lists right now (asked again for every new client: servers get reconfigured).
   */
  private async chooseSecurity(): Promise<Security> {
    const cfg = this.config;
    if (cfg.securityMode !== AUTO_SECURITY) {
      if (cfg.securityPolicy === AUTO_SECURITY)
        throw new Error('securityPolicy auto needs securityMode auto');
      return { mode: cfg.securityMode, policy: cfg.securityPolicy };
    }
    const endpoints = await this.discoverEndpoints();
    const choice = chooseEndpoint(endpoints, {
      identity: cfg.identity.type,
      allowPasswordOnUnsecuredChannel: cfg.allowPasswordOnUnsecuredChannel,
    });
    if (!choice.ok) throw new SecurityChoiceError(choice.error);
    const key = `${choice.securityMode}/${choice.securityPolicy}`;
    const changed = key !== this.lastChoice;
    this.lastChoice = key;
    const fields = {
      securityMode: choice.securityMode,
      securityPolicy: choice.securityPolicy,
      offered: choice.offered,
    };
    if (choice.noneBecause !== undefined) {
      this.log[changed ? 'warn' : 'debug'](
        { ...fields, reason: choice.noneBecause },
        'securityMode auto fell back to None: this connection is neither signed nor encrypted',
      );
    } else {
      this.log[changed ? 'info' : 'debug'](fields, 'securityMode auto chose the strongest endpoint offered');
    }
    return { mode: choice.securityMode, policy: choice.securityPolicy };
  }

  /** GetEndpoints over an unsecured channel, the discovery channel every server must accept. */
  private async discoverEndpoints(): Promise<EndpointDescription[]> {
    const cfg = this.config;
    const discovery = createClient({
      pki: this.deps.pki,
      securityMode: 'None',
      securityPolicy: 'None',
      reconnect: false,
      requestTimeoutMs: cfg.requestTimeoutMs,
      clientName: `gridstream-${cfg.name}-discovery`,
    });
    // stop() closes this.client while connecting: that includes this one.
    this.client = discovery;
    try {
      await withTimeout(discovery.connect(cfg.url), cfg.requestTimeoutMs * 2, 'connecting for GetEndpoints');
      return await withTimeout(discovery.getEndpoints(), cfg.requestTimeoutMs, 'GetEndpoints');
    } finally {
      if (this.client === discovery) this.client = undefined;
      await closeQuietly(discovery);
    }
  }

  private connectFailed(error: unknown, security: { mode: string; policy: string }): void {
    if (this.stopped) return;
    const cfg = this.config;
    this.deps.metrics.connectFailures.inc({ endpoint: cfg.name });
    const message =
      error instanceof SecurityChoiceError
        ? `${cfg.url}: ${error.message}`
        : describeOpcuaError(error, {
            endpointUrl: cfg.url,
            securityMode: security.mode,
            securityPolicy: security.policy,
            trustedFolder: this.deps.pki.trustedFolder,
            rejectedFolder: this.deps.pki.rejectedFolder,
            thumbprint: this.deps.thumbprint,
          });
    // A server that stays down for an hour must not write a warning every few seconds: the first
    // failure, every change of reason, and every 20th repeat are warnings; the rest are debug.
    this.repeatedFailures = message === this.lastFailure ? this.repeatedFailures + 1 : 0;
    this.lastFailure = message;
    const level = this.repeatedFailures % 20 === 0 ? 'warn' : 'debug';
    this.log[level]({ error: message, repeated: this.repeatedFailures }, 'OPC UA connection failed');
  }

  /** One client's life. Returns true if it got as far as collecting data. */
  private async connectAndServe(): Promise<boolean> {
    const cfg = this.config;
    this.setState('connecting');
    let security: Security;
    try {
      security = await this.chooseSecurity();
    } catch (error) {
      this.connectFailed(error, { mode: cfg.securityMode, policy: cfg.securityPolicy });
      return false;
    }
    if (this.stopped) return false;
    const client = createClient({
      pki: this.deps.pki,
      securityMode: security.mode,
      securityPolicy: security.policy,
      reconnect: true,
      maxRetryDelayMs: cfg.reconnectMaxDelayMs,
      requestTimeoutMs: cfg.requestTimeoutMs,
      keepSessionAlive: cfg.mode === 'polling',
      clientName: `gridstream-${cfg.name}`,
    });
    this.client = client;
    let session: ClientSession | undefined;
    let served = false;
    let tearingDown = false;
    const rebuild = new Promise<string>((resolve) => {
      this.requestRebuild = resolve;
    });

    client.on('connection_lost', () => {
      if (tearingDown || this.stopped) return;
      this.setState('reconnecting');
      this.log.warn('connection lost; node-opcua is reconnecting');
    });
    // node-opcua emits after_reconnection when the channel is back, connection_reestablished when the
    // session has been repaired on it.
    client.on('after_reconnection', () => {
      if (tearingDown || this.stopped) return;
      this.log.info('reconnected; restoring the session');
      // Seen with asyncua 2.1 servers: after a restart node-opcua's session repair never finishes; its
      // publish requests fail (BadSessionIdInvalid) in a tight loop that it reports as keep-alives. A
      // repair that has not produced `session_restored` in time is abandoned for a fresh client.
      clearTimeout(this.repairTimer);
      this.repairTimer = setTimeout(() => {
        if (this.state === 'reconnecting') {
          this.requestRebuild?.(
            `the session was not restored within ${Math.round(cfg.repairTimeoutMs / 1000)} s of reconnecting`,
          );
        }
      }, cfg.repairTimeoutMs);
    });
    client.on('connection_reestablished', () => this.log.debug('connection re-established'));
    client.on('backoff', (count: number, delayMs: number) =>
      this.log.debug({ attempt: count, delayMs }, 'reconnection attempt failed; retrying'),
    );
    client.on('close', () => {
      if (!tearingDown && !this.stopped && served) this.requestRebuild?.('connection closed');
    });

    try {
      await withTimeout(client.connect(cfg.url), cfg.requestTimeoutMs * 2, 'connecting');
      session = await withTimeout(
        client.createSession(userIdentityInfo(cfg.identity)),
        cfg.requestTimeoutMs,
        'creating the session',
      );
      const s = session;
      s.on('session_restored', () => {
        clearTimeout(this.repairTimer);
        this.restoring = this.restoring.then(() => this.onRestored(s));
      });
      await this.setup(s);
      this.sessionId = s.sessionId.toString();
      // What the client actually runs with, not what was asked for.
      this.securityLabels = {
        endpoint: cfg.name,
        mode: MessageSecurityMode[client.securityMode] ?? String(client.securityMode),
        policy: shortPolicyName(client.securityPolicy),
      };
      this.deps.metrics.security.set(this.securityLabels, 1);
      this.lastActivityMs = Date.now();
      served = true;
      this.lastFailure = '';
      this.setState('connected');
      this.log.info(
        {
          sessionId: this.sessionId,
          mode: cfg.mode,
          points: this.points.length,
          unresolved: this.nodeIds.filter((n) => !n).length + this.failedItems,
          securityMode: this.securityLabels.mode,
          securityPolicy: this.securityLabels.policy,
        },
        'collecting',
      );
      const reason = await rebuild;
      if (!this.stopped) {
        this.log.warn({ reason }, 'starting over with a new client and session');
        this.deps.metrics.reconnects.inc({ endpoint: cfg.name, kind: 'rebuilt' });
      }
    } catch (error) {
      this.connectFailed(error, security);
    } finally {
      tearingDown = true;
      if (this.securityLabels) this.deps.metrics.security.remove(this.securityLabels);
      this.securityLabels = undefined;
      this.requestRebuild = undefined;
      clearTimeout(this.repairTimer);
      clearTimeout(this.pollTimer);
      this.pollTimer = undefined;
      this.subscription = undefined;
      this.client = undefined;
      this.sessionId = '';
      await this.restoring.catch(() => undefined);
      await closeQuietly(client, session);
    }
    return served;
  }

  private async setup(session: ClientSession): Promise<void> {
    await this.resolve(session);
    if (this.config.mode === 'subscription') await this.subscribe(session);
    else await this.startPolling(session);
  }

  private async resolve(session: ClientSession): Promise<boolean> {
    const resolutions = await resolveNodeRefs(
      session,
      this.pointConfigs.map((p) => p.ref),
    );
    const before = this.nodeIds;
    const problems: string[] = [];
    this.nodeIds = resolutions.map((r, i) => {
      if (r.ok) return r.nodeId;
      problems.push(`${this.pointConfigs[i]!.label}: ${r.error}`);
      return undefined;
    });
    if (problems.length > 0) {
      this.log.warn(
        { count: problems.length, first: problems.slice(0, 20) },
        'points that did not resolve (not collected)',
      );
    }
    this.deps.metrics.unresolved.set({ endpoint: this.config.name }, problems.length);
    return this.nodeIds.some((id, i) => (id?.toString() ?? '') !== (before[i]?.toString() ?? ''));
  }

  private async subscribe(session: ClientSession): Promise<void> {
    const cfg = this.config;
    const subscription = await session.createSubscription2({
      requestedPublishingInterval: cfg.publishingIntervalMs,
      requestedMaxKeepAliveCount: cfg.maxKeepAliveCount,
      requestedLifetimeCount: cfg.maxKeepAliveCount * 6,
      maxNotificationsPerPublish: 0,
      publishingEnabled: true,
      priority: 1,
    });
    this.subscription = subscription;
    // Liveness counts only while the session is known good: a repair loop can produce "keep-alives".
    const touch = () => {
      if (this.state === 'connected') this.lastActivityMs = Date.now();
    };
    subscription.on('keepalive', touch);
    subscription.on('received_notifications', touch);
    subscription.on('terminated', () => {
      if (this.subscription === subscription) this.requestRebuild?.('the server terminated the subscription');
    });

    const limits = await readOperationLimits(session).catch(
      () => ({}) as { maxMonitoredItemsPerCall?: number },
    );
    const perCall = Math.max(1, Math.min(1_000, limits.maxMonitoredItemsPerCall || 1_000));
    const booleans = await this.booleanPoints(session);

    // One group per distinct parameter set, at most `perCall` items each (one CreateMonitoredItems call).
    const plans = new Map<string, { params: MonitoringParametersOptions; indices: number[] }>();
    this.nodeIds.forEach((nodeId, i) => {
      if (!nodeId) return;
      const p = this.pointConfigs[i]!;
      const deadband = booleans.has(i) ? undefined : (p.deadband ?? cfg.deadband);
      const samplingInterval = p.samplingIntervalMs ?? cfg.samplingIntervalMs;
      const key = `${samplingInterval}|${deadband?.type ?? ''}|${deadband?.value ?? ''}`;
      let plan = plans.get(key);
      if (!plan) {
        plan = { params: monitoringParameters(samplingInterval, cfg.queueSize, deadband), indices: [] };
        plans.set(key, plan);
      }
      plan.indices.push(i);
    });

    let good = 0;
    let failed = 0;
    const retryWithoutFilter: number[] = [];
    const problems: string[] = [];
    for (const { params, indices } of plans.values()) {
      for (let start = 0; start < indices.length; start += perCall) {
        const chunk = indices.slice(start, start + perCall);
        const items = await this.monitor(subscription, chunk, params);
        items.forEach((item, k) => {
          const status = item.statusCode;
          if (status.isGood() || status.name === 'GoodOverload') good++;
          else if (params.filter && FILTER_REFUSALS.has(status.name)) retryWithoutFilter.push(chunk[k]!);
          else {
            failed++;
            problems.push(`${this.pointConfigs[chunk[k]!]!.label}: ${status.name}`);
          }
        });
      }
    }
    if (retryWithoutFilter.length > 0) {
      this.log.warn(
        { count: retryWithoutFilter.length },
        'the server refused the deadband for some points (no EURange, or not numeric); monitoring them without it',
      );
      const params = monitoringParameters(cfg.samplingIntervalMs, cfg.queueSize, undefined);
      for (let start = 0; start < retryWithoutFilter.length; start += perCall) {
        const chunk = retryWithoutFilter.slice(start, start + perCall);
        const items = await this.monitor(subscription, chunk, params);
        items.forEach((item, k) => {
          if (item.statusCode.isGood()) good++;
          else {
            failed++;
            problems.push(`${this.pointConfigs[chunk[k]!]!.label}: ${item.statusCode.name}`);
          }
        });
      }
    }
    if (problems.length > 0) {
      this.log.warn(
        { count: problems.length, first: problems.slice(0, 20) },
        'monitored items the server refused',
      );
    }
    this.failedItems = failed;
    this.deps.metrics.monitoredItems.set({ endpoint: cfg.name }, good);
    this.deps.metrics.unresolved.set({ endpoint: cfg.name }, this.nodeIds.filter((n) => !n).length + failed);
  }

  private async monitor(
    subscription: ClientSubscription,
    indices: number[],
    params: MonitoringParametersOptions,
  ): Promise<ClientMonitoredItemBase[]> {
    const group = ClientMonitoredItemGroup.create(
      subscription,
      indices.map((i) => ({ nodeId: this.nodeIds[i]!, attributeId: AttributeIds.Value })),
      params,
      TimestampsToReturn.Both,
    );
    // Attached before the items exist: the initial values can arrive with the very next publish.
    group.on('changed', (_item: ClientMonitoredItemBase, dataValue: DataValue, index: number) => {
      this.onValue(indices[index]!, dataValue);
    });
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        group.once('initialized', () => resolve());
        group.once('terminated', (error?: Error) =>
          reject(error ?? new Error('monitored item group terminated')),
        );
      }),
      this.config.requestTimeoutMs * 2,
      'creating monitored items',
    );
    return group.monitoredItems;
  }

  /** Points whose node is Boolean: a deadband on them makes a server refuse the whole item. */
  private async booleanPoints(session: ClientSession): Promise<Set<number>> {
    const out = new Set<number>();
    const wanted = this.nodeIds
      .map((nodeId, i) => ({ nodeId, i }))
      .filter(({ nodeId, i }) => nodeId && (this.pointConfigs[i]!.deadband ?? this.config.deadband));
    for (let start = 0; start < wanted.length; start += 1_000) {
      const chunk = wanted.slice(start, start + 1_000);
      const values = await session.read(
        chunk.map(({ nodeId }) => ({ nodeId: nodeId!, attributeId: AttributeIds.DataType })),
      );
      values.forEach((dv, k) => {
        if (dv.value?.value?.toString() === BOOLEAN_DATA_TYPE) out.add(chunk[k]!.i);
      });
    }
    return out;
  }

  private onValue(index: number, dataValue: DataValue): void {
    const now = Date.now();
    if (this.state === 'connected') this.lastActivityMs = now;
    const point = this.points[index];
    if (!point) return;
    const reading: Reading = {
      value: scalarOf(dataValue.value),
      severity: severityOf(dataValue.statusCode),
      receivedAtMs: now,
    };
    const source = usableTimestamp(dataValue.sourceTimestamp);
    const server = usableTimestamp(dataValue.serverTimestamp);
    if (source !== undefined) reading.sourceTsMs = source;
    if (server !== undefined) reading.serverTsMs = server;
    const outcome = this.buffer.add(point, reading, { changeOnly: this.config.mode === 'subscription' });
    const endpoint = this.config.name;
    switch (outcome.kind) {
      case 'added':
        this.counters.get(point.device)![reading.severity].inc();
        if (outcome.timestamp !== 'source')
          this.deps.metrics.timestampFallback.inc({ endpoint, used: outcome.timestamp });
        break;
      case 'duplicate':
        this.deps.metrics.duplicates.inc({ endpoint });
        break;
      case 'unsupported':
        this.deps.metrics.unsupported.inc({ endpoint, data_type: outcome.dataType });
        if (!this.warnedUnsupported.has(index)) {
          this.warnedUnsupported.add(index);
          this.log.warn(
            { point: this.pointConfigs[index]!.label, dataType: outcome.dataType },
            'value is not a number or boolean; ignored',
          );
        }
        break;
      case 'empty':
        break;
    }
  }

  /** node-opcua repaired the connection (maybe with a new session): check the NodeIds still hold. */
  private async onRestored(session: ClientSession): Promise<void> {
    if (this.stopped || !this.requestRebuild) return;
    clearTimeout(this.repairTimer);
    const endpoint = this.config.name;
    this.sessionId = session.sessionId.toString();
    this.deps.metrics.reconnects.inc({ endpoint, kind: 'session_restored' });
    try {
      const moved = await this.resolve(session);
      if (this.config.mode === 'subscription') {
        const items = this.subscription ? monitoredItemsOf(this.subscription) : [];
        const bad = items.filter((item) => !item.statusCode.isGood()).length;
        if (moved || bad > this.failedItems || !this.subscription) {
          this.log.info(
            { nodeIdsMoved: moved, badItems: bad },
            'session restored, but monitored items point at stale NodeIds; recreating them',
          );
          const old = this.subscription;
          this.subscription = undefined;
          if (old)
            await withTimeout(
              old.terminate(),
              this.config.requestTimeoutMs,
              'deleting the old subscription',
            ).catch(() => undefined);
          await this.subscribe(session);
          this.deps.metrics.reconnects.inc({ endpoint, kind: 'resubscribed' });
        }
      }
      this.lastActivityMs = Date.now();
      this.setState('connected');
      this.log.info({ sessionId: this.sessionId }, 'session restored; collecting again');
    } catch (error) {
      this.requestRebuild?.(`restoring after reconnect failed: ${(error as Error).message}`);
    }
  }

  private async startPolling(session: ClientSession): Promise<void> {
    const limits = await readOperationLimits(session).catch(() => ({}) as { maxNodesPerRead?: number });
    const perRead = Math.max(1, Math.min(1_000, limits.maxNodesPerRead || 1_000));
    const period = this.config.pollIntervalMs;
    const endpoint = this.config.name;
    // Aligned to the wall clock and computed from the slot, not from "now + period": no drift, and a
    // late cycle is skipped (counted) rather than run twice back to back.
    let slot = Math.ceil(Date.now() / period) * period;
    const schedule = () => {
      if (this.stopped || !this.requestRebuild) return;
      const now = Date.now();
      if (now - slot > period) {
        const missed = Math.floor((now - slot) / period);
        this.deps.metrics.pollSkipped.inc({ endpoint }, missed);
        slot += missed * period;
      }
      this.pollTimer = setTimeout(
        () => {
          slot += period;
          void this.poll(session, perRead);
          schedule();
        },
        Math.max(0, slot - now),
      );
    };
    await this.poll(session, perRead);
    schedule();
  }

  private async poll(session: ClientSession, perRead: number): Promise<void> {
    const endpoint = this.config.name;
    if (this.pollInFlight) {
      this.deps.metrics.pollSkipped.inc({ endpoint });
      return;
    }
    this.pollInFlight = true;
    const stopTimer = this.deps.metrics.pollDuration.startTimer({ endpoint });
    try {
      const indices = this.nodeIds.flatMap((id, i) => (id ? [i] : []));
      for (let start = 0; start < indices.length; start += perRead) {
        const chunk = indices.slice(start, start + perRead);
        const values = await session.read(
          chunk.map((i) => ({ nodeId: this.nodeIds[i]!, attributeId: AttributeIds.Value })),
          0,
        );
        values.forEach((dv, k) => {
          this.onValue(chunk[k]!, dv);
        });
      }
      this.lastActivityMs = Date.now();
    } catch (error) {
      this.log.warn({ error: (error as Error).message.split('\n')[0] }, 'poll failed');
    } finally {
      stopTimer();
      this.pollInFlight = false;
    }
  }
}

function monitoringParameters(
  samplingInterval: number,
  queueSize: number,
  deadband: Deadband | undefined,
): MonitoringParametersOptions {
  const params: MonitoringParametersOptions = { samplingInterval, queueSize, discardOldest: true };
  if (deadband) {
    params.filter = new DataChangeFilter({
      trigger: DataChangeTrigger.StatusValue,
      deadbandType: deadband.type === 'absolute' ? DeadbandType.Absolute : DeadbandType.Percent,
      deadbandValue: deadband.value,
    });
  }
  return params;
}

function monitoredItemsOf(subscription: ClientSubscription): ClientMonitoredItemBase[] {
  return Object.values(subscription.monitoredItems ?? {});
}
