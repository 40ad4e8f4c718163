import {
  type DeadLetterReason,
  EquipmentName,
  Identifier,
  type QualityFlag,
  type Sample,
} from '@gridstream/schema';
import {
  type DecodedMetric,
  type DecodedPayload,
  datatypeName,
  decodeSparkplug,
  readMetricValue,
  type SparkplugTopic,
} from './sparkplug-codec.js';
import { renderTemplate, type Template } from './template.js';

/**
 * The Sparkplug B host side (Sparkplug 3.0, "Host Applications"): what each edge node and device declared
 * in its birth (metric names, aliases, datatypes), its sequence numbers, and whether it is online. Data is
 * only ever read against a birth; anything that does not fit one — data before a birth, a sequence gap, an
 * alias no birth declared — is not guessed at: it is counted and the node is asked for a rebirth (NCMD
 * `Node Control/Rebirth`), once until it answers or `rebirthTimeoutMs` passes.
 *
 * Pure: decisions only. The connection publishes the rebirth requests and spools the samples.
 */

export interface SparkplugOverride {
  node: string;
  device?: string;
  site?: string;
  equipment?: string;
  /** gridstream's device id for it. */
  id?: string;
}

export interface SparkplugMapping {
  /** `{group}`, `{node}`, `{device}` placeholders (template.ts). */
  site: Template;
  equipment: Template;
  /** The device id of a Sparkplug device's metrics (default `{node}.{device}`). */
  device: Template;
  /** The device id of an edge node's own metrics (default `{node}`). */
  nodeDevice: Template;
  overrides: SparkplugOverride[];
  /** The status flag births and deaths set (default `online`). */
  onlineFlag: string;
  rebirthTimeoutMs: number;
}

/** Why a message (or part of it) was not taken as data: `gridstream_mqtt_sparkplug_ignored_total{reason}`. */
export type IgnoreReason =
  | 'before_birth'
  | 'seq_gap'
  | 'unknown_alias'
  | 'unknown_device'
  | 'awaiting_rebirth'
  | 'stale_death'
  | 'duplicate'
  | 'command';

export interface SparkplugOutcome {
  samples: Sample[];
  /** Ask this node for a rebirth (at most one request in flight per node). */
  rebirth?: { group: string; node: string; reason: string };
  ignored?: { reason: IgnoreReason; detail: string };
  /** Metrics not taken as readings, by why (strings, bytes, data sets, …). */
  skipped: Map<string, number>;
  /** The payload cannot be read at all: dead-letter it. */
  bad?: { reason: DeadLetterReason; message: string };
  /** Online state changes: (node, device) → online. */
  state: { node: string; device?: string; online: boolean }[];
}

interface MetricDef {
  name: string;
  datatype: number;
}

interface MetricTable {
  byAlias: Map<bigint, MetricDef>;
  byName: Map<string, MetricDef>;
}

interface DeviceState {
  online: boolean;
  metrics: MetricTable;
}

interface NodeState {
  group: string;
  node: string;
  online: boolean;
  bdSeq?: bigint;
  seq: number;
  /** A gap or an unknown alias was seen: data waits for the rebirth. */
  stale: boolean;
  rebirthRequestedAt?: number;
  metrics: MetricTable;
  devices: Map<string, DeviceState>;
}

/** Metrics that are the protocol's, not readings. */
const CONTROL_PREFIXES = ['Node Control/', 'Device Control/'];
const BD_SEQ = 'bdSeq';

export class SparkplugHost {
  private readonly nodes = new Map<string, NodeState>();

  constructor(private readonly mapping: SparkplugMapping) {}

  /** Node and device states, for readiness details and logs. */
  summary(): { nodes: number; online: number; devicesOnline: number } {
    let online = 0;
    let devicesOnline = 0;
    for (const n of this.nodes.values()) {
      if (n.online) online++;
      for (const d of n.devices.values()) if (n.online && d.online) devicesOnline++;
    }
    return { nodes: this.nodes.size, online, devicesOnline };
  }

  handle(topic: SparkplugTopic, payload: Buffer, meta: { receivedAt: Date; dup: boolean }): SparkplugOutcome {
    const out: SparkplugOutcome = { samples: [], skipped: new Map(), state: [] };
    if (topic.type === 'NCMD' || topic.type === 'DCMD') {
      out.ignored = { reason: 'command', detail: topic.type };
      return out;
    }
    let decoded: DecodedPayload;
    try {
      decoded = decodeSparkplug(payload);
    } catch (error) {
      out.bad = { reason: 'unreadable', message: `not a Sparkplug B payload: ${(error as Error).message}` };
      return out;
    }
    const key = `${topic.group}/${topic.node}`;
    const now = meta.receivedAt.getTime();
    let node = this.nodes.get(key);

    if (topic.type === 'NBIRTH') {
      const bdSeq = decoded.metrics.find((m) => m.name === BD_SEQ);
      node = {
        group: topic.group,
        node: topic.node,
        online: true,
        seq: decoded.seq ?? 0,
        stale: false,
        metrics: { byAlias: new Map(), byName: new Map() },
        devices: new Map(),
      };
      if (bdSeq) {
        const v = readMetricValue(bdSeq.datatype ?? 4, bdSeq);
        if (v.kind === 'number') node.bdSeq = BigInt(v.value);
      }
      this.nodes.set(key, node);
      this.birth(node.metrics, decoded, out);
      out.state.push({ node: topic.node, online: true });
      this.emit(topic, undefined, decoded, node.metrics, meta.receivedAt, out, true);
      return out;
    }

    if (topic.type === 'NDEATH') {
      if (!node?.online) {
        out.ignored = { reason: 'before_birth', detail: 'NDEATH of a node that is not online' };
        return out;
      }
      const bdSeqMetric = decoded.metrics.find((m) => m.name === BD_SEQ);
      const bdSeqValue = bdSeqMetric ? readMetricValue(bdSeqMetric.datatype ?? 4, bdSeqMetric) : undefined;
      const bdSeq = bdSeqValue?.kind === 'number' ? BigInt(bdSeqValue.value) : undefined;
      if (node.bdSeq !== undefined && bdSeq !== undefined && bdSeq !== node.bdSeq) {
        // The will of an earlier connection, published after the node was already back (its new NBIRTH
        // came first): the node is online.
        out.ignored = { reason: 'stale_death', detail: `NDEATH bdSeq ${bdSeq}, NBIRTH bdSeq ${node.bdSeq}` };
        return out;
      }
      node.online = false;
      // The death certificate is the broker's (the node's will): its timestamp is when the node connected,
      // not when it died. The time received is the closest to the truth.
      const ts = meta.receivedAt.toISOString();
      for (const [device, d] of node.devices) {
        if (!d.online) continue;
        d.online = false;
        out.state.push({ node: topic.node, device, online: false });
        this.pushOnline(topic, device, ts, false, out);
      }
      out.state.push({ node: topic.node, online: false });
      this.pushOnline(topic, undefined, ts, false, out);
      return out;
    }

    // NDATA, DBIRTH, DDATA, DDEATH: only against the node's birth, in sequence.
    if (!node?.online) {
      out.ignored = { reason: 'before_birth', detail: `${topic.type} before the node's NBIRTH` };
      this.requestRebirth(node, topic, now, `${topic.type} before NBIRTH`, out, true);
      return out;
    }
    if (node.stale) {
      out.ignored = { reason: 'awaiting_rebirth', detail: `${topic.type} while waiting for the rebirth` };
      this.requestRebirth(node, topic, now, 'no rebirth after the request', out, false);
      return out;
    }
    if (decoded.seq === undefined || decoded.seq !== (node.seq + 1) % 256) {
      if (meta.dup && decoded.seq === node.seq) {
        out.ignored = { reason: 'duplicate', detail: `${topic.type} seq ${decoded.seq} redelivered` };
        return out;
      }
      const detail = `expected seq ${(node.seq + 1) % 256}, got ${decoded.seq ?? 'none'}`;
      node.stale = true;
      out.ignored = { reason: 'seq_gap', detail: `${topic.type}: ${detail}` };
      this.requestRebirth(node, topic, now, `sequence gap: ${detail}`, out, true);
      return out;
    }
    node.seq = decoded.seq;

    if (topic.type === 'NDATA') {
      this.emit(topic, undefined, decoded, node.metrics, meta.receivedAt, out, false);
      if (out.ignored?.reason === 'unknown_alias') {
        node.stale = true;
        this.requestRebirth(node, topic, now, out.ignored.detail, out, true);
      }
      return out;
    }
    const deviceId = topic.device!;
    if (topic.type === 'DBIRTH') {
      const device: DeviceState = { online: true, metrics: { byAlias: new Map(), byName: new Map() } };
      node.devices.set(deviceId, device);
      this.birth(device.metrics, decoded, out);
      out.state.push({ node: topic.node, device: deviceId, online: true });
      this.emit(topic, deviceId, decoded, device.metrics, meta.receivedAt, out, true);
      return out;
    }
    const device = node.devices.get(deviceId);
    if (topic.type === 'DDEATH') {
      if (!device?.online) {
        out.ignored = { reason: 'unknown_device', detail: `DDEATH of ${deviceId}, which is not online` };
        return out;
      }
      device.online = false;
      out.state.push({ node: topic.node, device: deviceId, online: false });
      const ts = new Date(decoded.timestamp ?? meta.receivedAt.getTime()).toISOString();
      this.pushOnline(topic, deviceId, ts, false, out);
      return out;
    }
    // DDATA
    if (!device?.online) {
      node.stale = true;
      out.ignored = { reason: 'unknown_device', detail: `DDATA of ${deviceId} before its DBIRTH` };
      this.requestRebirth(node, topic, now, `DDATA of ${deviceId} before its DBIRTH`, out, true);
      return out;
    }
    this.emit(topic, deviceId, decoded, device.metrics, meta.receivedAt, out, false);
    if (out.ignored?.reason === 'unknown_alias') {
      node.stale = true;
      this.requestRebirth(node, topic, now, out.ignored.detail, out, true);
    }
    return out;
  }

  /** Forgets every node (the connection lost its session: births must be heard again). */
  reset(): void {
    this.nodes.clear();
  }

  private birth(table: MetricTable, decoded: DecodedPayload, out: SparkplugOutcome): void {
    for (const m of decoded.metrics) {
      if (m.name === undefined || m.name === '') {
        bump(out.skipped, 'birth metric without a name');
        continue;
      }
      if (m.datatype === undefined) {
        bump(out.skipped, 'birth metric without a datatype');
        continue;
      }
      const def = { name: m.name, datatype: m.datatype };
      table.byName.set(m.name, def);
      if (m.alias !== undefined) table.byAlias.set(m.alias, def);
    }
  }

  private requestRebirth(
    node: NodeState | undefined,
    topic: SparkplugTopic,
    now: number,
    reason: string,
    out: SparkplugOutcome,
    first: boolean,
  ): void {
    const key = `${topic.group}/${topic.node}`;
    let state = node;
    if (!state) {
      state = {
        group: topic.group,
        node: topic.node,
        online: false,
        seq: 0,
        stale: true,
        metrics: { byAlias: new Map(), byName: new Map() },
        devices: new Map(),
      };
      this.nodes.set(key, state);
    }
    const since = state.rebirthRequestedAt;
    if (since !== undefined && now - since < this.mapping.rebirthTimeoutMs) return;
    if (!first && since === undefined) return;
    state.rebirthRequestedAt = now;
    out.rebirth = { group: topic.group, node: topic.node, reason };
  }

  /** Readings of a birth or data message against its table, one sample per timestamp. */
  private emit(
    topic: SparkplugTopic,
    device: string | undefined,
    decoded: DecodedPayload,
    table: MetricTable,
    receivedAt: Date,
    out: SparkplugOutcome,
    birth: boolean,
  ): void {
    const identity = this.identity(topic, device);
    if (typeof identity === 'string') {
      out.bad = { reason: 'invalid_record', message: identity };
      return;
    }
    const payloadTs = decoded.timestamp ?? receivedAt.getTime();
    const byTs = new Map<number, Sample>();
    const sampleAt = (ms: number): Sample => {
      let s = byTs.get(ms);
      if (!s) {
        s = { ...identity, ts: new Date(ms).toISOString(), fields: {} };
        byTs.set(ms, s);
      }
      return s;
    };
    const resolved: { def: MetricDef; metric: DecodedMetric }[] = [];
    for (const m of decoded.metrics) {
      let def: MetricDef | undefined;
      if (birth) def = m.name !== undefined ? table.byName.get(m.name) : undefined;
      else if (m.alias !== undefined && (m.name === undefined || m.name === ''))
        def = table.byAlias.get(m.alias);
      else if (m.name !== undefined) def = table.byName.get(m.name);
      if (!def) {
        if (birth) continue; // counted by birth()
        const what = m.name ? `metric "${m.name}"` : `alias ${m.alias ?? '(none)'}`;
        // Not guessed: the whole message waits for the rebirth, which brings every current value.
        out.ignored = { reason: 'unknown_alias', detail: `${topic.type}: ${what} is not in the birth` };
        out.samples = [];
        return;
      }
      resolved.push({ def, metric: m });
    }
    for (const { def, metric } of resolved) {
      if (def.name === BD_SEQ || CONTROL_PREFIXES.some((p) => def.name.startsWith(p))) continue;
      const reading = readMetricValue(metric.datatype ?? def.datatype, metric);
      if (reading.kind === 'null') continue;
      if (reading.kind === 'skipped') {
        bump(out.skipped, reading.why);
        continue;
      }
      const s = sampleAt(metric.timestamp ?? payloadTs);
      if (reading.kind === 'number') s.fields[def.name] = reading.value;
      else s.flags = { ...s.flags, [def.name]: reading.value };
      if (metric.quality !== undefined && metric.quality !== 192) {
        const flag: QualityFlag = metric.quality === 500 ? 'stale' : 'bad';
        s.quality = { ...s.quality, [def.name]: [flag] };
      }
    }
    if (birth) {
      const s = sampleAt(payloadTs);
      s.flags = { ...s.flags, [this.mapping.onlineFlag]: true };
    }
    out.samples.push(...byTs.values());
  }

  private pushOnline(
    topic: SparkplugTopic,
    device: string | undefined,
    ts: string,
    online: boolean,
    out: SparkplugOutcome,
  ): void {
    const identity = this.identity(topic, device);
    if (typeof identity === 'string') {
      out.bad = { reason: 'invalid_record', message: identity };
      return;
    }
    out.samples.push({ ...identity, ts, fields: {}, flags: { [this.mapping.onlineFlag]: online } });
  }

  private identity(
    topic: SparkplugTopic,
    device: string | undefined,
  ): { site: string; equipment: string; device: string } | string {
    const override = this.mapping.overrides.find(
      (o) => o.node === topic.node && (o.device ?? undefined) === device,
    );
    const vars = { group: topic.group, node: topic.node, device };
    const render = (template: Template, name: string): string | { problem: string } => {
      const v = renderTemplate(template, { vars });
      return typeof v === 'string' ? v : { problem: `${name} (${template.text}): ${v.missing} is missing` };
    };
    const site = override?.site ?? render(this.mapping.site, 'site');
    const equipment = override?.equipment ?? render(this.mapping.equipment, 'equipment');
    const id =
      override?.id ?? render(device === undefined ? this.mapping.nodeDevice : this.mapping.device, 'device');
    for (const v of [site, equipment, id]) if (typeof v !== 'string') return v.problem;
    const checks: [string, string, typeof Identifier][] = [
      ['site', site as string, Identifier],
      ['equipment', equipment as string, EquipmentName],
      ['device', id as string, Identifier],
    ];
    for (const [name, value, schema] of checks) {
      const r = schema.safeParse(value);
      if (!r.success) return `${name} "${value}": ${r.error.issues[0]?.message ?? 'invalid'}`;
    }
    return { site: site as string, equipment: equipment as string, device: id as string };
  }
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

export { datatypeName };
