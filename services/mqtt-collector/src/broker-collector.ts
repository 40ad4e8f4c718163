import { createHash } from 'node:crypto';
import type { Logger } from '@gridstream/runtime';
import type { SourceEndpoint } from '@gridstream/source';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { mapJsonPayload } from './json-mapping.js';
import { samplesMessageId } from './message-id.js';
import type { BrokerConfig, SubscriptionConfig } from './mqtt-config.js';
import type { MessageOutcome, MqttMetrics } from './mqtt-metrics.js';
import { encodeRebirthRequest, parseSparkplugTopic, SPARKPLUG_NAMESPACE } from './sparkplug-codec.js';
import { SparkplugHost } from './sparkplug-host.js';
import { topicMatches } from './topic-filter.js';

export interface BrokerCollectorDeps {
  endpoint: SourceEndpoint;
  logger: Logger;
  metrics: MqttMetrics;
}

/**
 * Redelivered QoS 1 messages remembered, to know a copy of one already spooled. What this cannot see (a copy
 * after a restart, one the publisher sent twice) is taken again with the same message ids (message-id.ts),
 * and the parser drops it.
 */
const RECENT_LIMIT = 10_000;

/**
 * One broker: a persistent session (fixed client id, clean session off; MQTT 5 with a session expiry), so
 * that whatever the broker queued while the collector was away is delivered when it is back. A QoS 1
 * message is acknowledged (PUBACK) only once its samples — or its dead letter — are in the disk spool:
 * mqtt.js sends the PUBACK after `handleMessage` calls back, and the spool's append is synchronous. A
 * collector killed at any instant has therefore spooled every message the broker counts as delivered,
 * and the broker still holds every other.
 */
export class BrokerCollector {
  private client: MqttClient | undefined;
  private readonly hosts = new Map<SubscriptionConfig, SparkplugHost>();
  private firstConnect = true;
  private stopping = false;
  private readonly recent = new Set<string>();
  private readonly unmatchedLogged = new Map<string, number>();
  readonly uri: string;

  constructor(
    readonly config: BrokerConfig,
    private readonly deps: BrokerCollectorDeps,
  ) {
    this.uri = config.url;
    for (const s of config.subscriptions)
      if (s.kind === 'sparkplug') this.hosts.set(s, new SparkplugHost(s.mapping));
  }

  start(): void {
    const c = this.config;
    const options: IClientOptions = {
      protocolVersion: c.protocol === '5' ? 5 : 4,
      clientId: c.clientId,
      clean: false,
      keepalive: c.keepaliveSeconds,
      connectTimeout: c.connectTimeoutMs,
      reconnectPeriod: c.reconnectPeriodMs,
      // Subscriptions are made by connect() below: the broker's session already has them when it kept it.
      resubscribe: false,
      // A rebirth request is worth nothing late: never queued while disconnected.
      queueQoSZero: false,
      manualConnect: true,
    };
    if (c.protocol === '5') options.properties = { sessionExpiryInterval: c.sessionExpirySeconds };
    if (c.username !== undefined) options.username = c.username;
    if (c.password !== undefined) options.password = c.password;
    if (c.tls) {
      options.rejectUnauthorized = c.tls.rejectUnauthorized;
      if (c.tls.ca) options.ca = c.tls.ca;
      if (c.tls.cert) options.cert = c.tls.cert;
      if (c.tls.key) options.key = c.tls.key;
      if (c.tls.servername) options.servername = c.tls.servername;
    }
    const client = mqtt.connect(c.url, options);
    this.client = client;
    // The hook mqtt.js calls for every incoming PUBLISH before it sends the PUBACK (QoS 1), one message at
    // a time: whatever is done here is done before the broker forgets the message.
    client.handleMessage = (packet, done) => {
      try {
        this.onMessage(packet);
        done();
      } catch (error) {
        // Not acknowledged (the spool refused it): drop the connection so the broker delivers it again.
        this.deps.logger.error(
          { err: error, broker: c.name, topic: packet.topic },
          'could not spool an MQTT message; reconnecting without acknowledging it',
        );
        done(error as Error);
        client.stream?.destroy();
      }
    };
    client.on('connect', (connack) => {
      this.deps.endpoint.connected(
        true,
        `connected (session ${connack.sessionPresent ? 'resumed' : 'new'}); subscribing`,
      );
      this.deps.logger.info(
        { broker: c.name, url: c.url, clientId: c.clientId, sessionPresent: connack.sessionPresent },
        'connected to the MQTT broker',
      );
      void this.subscribe(connack.sessionPresent);
    });
    client.on('close', () => {
      if (this.deps.endpoint.isConnected)
        this.deps.logger.warn({ broker: c.name }, 'MQTT connection closed; reconnecting');
      this.deps.endpoint.connected(false, this.stopping ? 'stopped' : 'disconnected; reconnecting');
    });
    let lastError = '';
    client.on('error', (error) => {
      this.deps.endpoint.connected(false, `error: ${error.message}`);
      // Once per kind of failure, not at every reconnect attempt of a broker that stays away.
      if (error.message !== lastError)
        this.deps.logger.warn({ broker: c.name, err: error }, 'MQTT connection error; retrying');
      lastError = error.message;
    });
    client.on('connect', () => {
      lastError = '';
    });
    client.connect();
  }

  private async subscribe(sessionPresent: boolean): Promise<void> {
    const c = this.config;
    const client = this.client!;
    // MQTT 5: subscribe every time, with retain handling 1 (retained messages only for a new subscription),
    // so a filter added to the config since the session began is subscribed and nothing is re-sent.
    // MQTT 3.1.1 has no such option: subscribe at the process's first connection (the config may have
    // changed) and whenever the broker lost the session.
    const session = sessionPresent ? 'resumed' : 'new';
    if (c.protocol !== '5' && sessionPresent && !this.firstConnect) {
      this.deps.endpoint.connected(true, `connected (session ${session}); subscribed (kept by the broker)`);
      return;
    }
    let refused = 0;
    for (const s of c.subscriptions) {
      try {
        const granted = await client.subscribeAsync(s.filter, {
          qos: s.qos,
          ...(c.protocol === '5' ? { rh: 1, nl: s.kind === 'sparkplug' } : {}),
        });
        const qos = granted[0]?.qos;
        if (qos === 128 || qos === undefined) {
          refused++;
          this.deps.logger.error({ broker: c.name, topic: s.filter }, 'the broker refused the subscription');
        } else if (qos < s.qos)
          this.deps.logger.warn(
            { broker: c.name, topic: s.filter, requested: s.qos, granted: qos },
            'the broker granted a lower QoS than requested: messages may be lost while the collector is away',
          );
      } catch (error) {
        // The connection dropped meanwhile: the next connect subscribes again.
        if (!this.stopping)
          this.deps.logger.warn({ broker: c.name, topic: s.filter, err: error }, 'subscribe failed');
        return;
      }
    }
    this.firstConnect = false;
    const n = c.subscriptions.length;
    if (refused > 0)
      this.deps.endpoint.connected(
        false,
        `connected (session ${session}); the broker refused ${refused} of ${n} subscriptions`,
      );
    else
      this.deps.endpoint.connected(
        true,
        `connected (session ${session}); subscribed to ${n} topic filter(s)`,
      );
  }

  private onMessage(packet: IPublishPacket): void {
    const c = this.config;
    const topic = packet.topic;
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const receivedAt = new Date();
    const source = `${c.url}/${topic}`;
    const subscription = c.subscriptions.find((s) => topicMatches(s.filter, topic));
    const format = subscription?.kind ?? 'none';
    const count = (outcome: MessageOutcome) =>
      this.deps.metrics.messages.inc({ broker: c.name, format, outcome });

    let digest: string | undefined;
    if (packet.qos > 0) {
      digest = createHash('sha256').update(topic).update('\u0000').update(payload).digest('base64');
      if (packet.dup && this.recent.has(digest)) {
        count('redelivered');
        return;
      }
    }
    const remember = () => {
      if (digest === undefined) return;
      this.recent.add(digest);
      if (this.recent.size > RECENT_LIMIT) this.recent.delete(this.recent.values().next().value!);
    };

    if (!subscription) {
      // A subscription of an earlier config, still in the broker's session.
      const seen = (this.unmatchedLogged.get(topic) ?? 0) + 1;
      this.unmatchedLogged.set(topic, seen);
      if (seen === 1 || seen % 1000 === 0)
        this.deps.logger.warn(
          { broker: c.name, topic, messages: seen },
          'no subscription in the config matches this topic (one of an earlier config, kept in the broker session?); not taken',
        );
      count('unmatched');
      return;
    }
    if (payload.length > c.maxPayloadBytes) {
      this.deps.endpoint.deadLetter(
        payload,
        'oversized',
        `${payload.length} bytes, more than maxPayloadBytes ${c.maxPayloadBytes}`,
        { source, receivedAt },
      );
      remember();
      count('dead_lettered');
      return;
    }

    if (subscription.kind === 'json') {
      const levels = topic.split('/');
      const { samples, problems } = mapJsonPayload(subscription.mapping, payload, {
        topicLevels: levels,
        receivedAt,
      });
      if (problems.length > 0) {
        const text = problems
          .slice(0, 20)
          .map((p) => `${p.path}: ${p.message}`)
          .join('; ');
        this.deps.endpoint.deadLetter(payload, problems[0]!.reason, text, { source, receivedAt });
        count('dead_lettered');
      } else {
        this.deps.endpoint.push(samples, { source, receivedAt, messageId: samplesMessageId(samples) });
        count('taken');
      }
      remember();
      return;
    }

    const host = this.hosts.get(subscription)!;
    const parsed = parseSparkplugTopic(topic);
    if (!parsed) {
      // spBv1.0/STATE/<host> and the like: Sparkplug's, not data.
      count(topic.startsWith(`${SPARKPLUG_NAMESPACE}/`) ? 'ignored' : 'unmatched');
      return;
    }
    const outcome = host.handle(parsed, payload, { receivedAt, dup: packet.dup === true });
    for (const [why, n] of outcome.skipped) this.deps.metrics.skippedMetrics.inc({ broker: c.name, why }, n);
    if (outcome.bad) {
      this.deps.endpoint.deadLetter(payload, outcome.bad.reason, `${parsed.type}: ${outcome.bad.message}`, {
        source,
        receivedAt,
      });
      count('dead_lettered');
    } else if (outcome.samples.length > 0) {
      this.deps.endpoint.push(outcome.samples, {
        source,
        receivedAt,
        messageId: samplesMessageId(outcome.samples),
      });
      count('taken');
    } else count('ignored');
    remember();
    if (outcome.ignored) {
      this.deps.metrics.sparkplugIgnored.inc({ broker: c.name, reason: outcome.ignored.reason });
      if (outcome.ignored.reason !== 'command')
        this.deps.logger.warn(
          { broker: c.name, topic, reason: outcome.ignored.reason, detail: outcome.ignored.detail },
          'Sparkplug data not taken',
        );
    }
    for (const change of outcome.state)
      this.deps.logger.info({ broker: c.name, group: parsed.group, ...change }, 'Sparkplug state');
    const summary = host.summary();
    this.deps.metrics.nodesOnline.set({ broker: c.name }, summary.online);
    this.deps.metrics.devicesOnline.set({ broker: c.name }, summary.devicesOnline);
    if (outcome.rebirth) this.requestRebirth(outcome.rebirth);
  }

  private requestRebirth({ group, node, reason }: { group: string; node: string; reason: string }): void {
    const topic = `${SPARKPLUG_NAMESPACE}/${group}/NCMD/${node}`;
    this.deps.metrics.rebirthRequests.inc({ broker: this.config.name });
    this.deps.logger.warn(
      { broker: this.config.name, group, node, reason },
      'asking the edge node for a rebirth',
    );
    // QoS 0, as Sparkplug wants commands: a node that is not there has nothing to answer with; the next
    // message that does not fit asks again after rebirthTimeoutMs.
    this.client?.publish(
      topic,
      Buffer.from(encodeRebirthRequest(Date.now())),
      { qos: 0, retain: false },
      (error) => {
        if (error)
          this.deps.logger.warn({ broker: this.config.name, topic, err: error }, 'rebirth request not sent');
      },
    );
  }

  /**
   * Disconnects, keeping the session: the broker queues what arrives until the next start. Every message
   * taken so far is acknowledged (handleMessage is synchronous).
   */
  async stop(): Promise<void> {
    this.stopping = true;
    const client = this.client;
    if (!client) return;
    await Promise.race([client.endAsync(), new Promise((r) => setTimeout(r, 5_000).unref())]);
    if (!client.disconnected) await client.endAsync(true);
  }
}
