import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { issuePath, readConfigFile, readSecretFile } from '@gridstream/config';
import { EquipmentName, FieldName, Identifier, isValidTimeZone } from '@gridstream/schema';
import { z } from 'zod';
import {
  type FieldMapping,
  type FlagMapping,
  type JsonMapping,
  TIME_FORMATS,
  type TimeMapping,
} from './json-mapping.js';
import { type JsonPath, parsePath } from './json-path.js';
import type { SparkplugMapping, SparkplugOverride } from './sparkplug-host.js';
import { isLiteral, parseTemplate, type Template, type TemplateRules } from './template.js';
import { filterProblem, fixedLevels, topicFilterOf } from './topic-filter.js';

/**
 * The MQTT collector's broker file (YAML or JSON; docs/mqtt-collector.md): which brokers, how to log in,
 * what to subscribe to and how each subscription's payloads become samples. Secrets never live here: a
 * password is named by `passwordEnv` (with the usual `<NAME>_FILE`) or `passwordFile`, read at load.
 */

const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');

const Tls = z
  .object({
    /** PEM file of the CA(s) that signed the broker's certificate (default: the system's). */
    caFile: z.string().min(1).optional(),
    /** Client certificate and key (PEM) when the broker asks for one (mutual TLS). */
    certFile: z.string().min(1).optional(),
    keyFile: z.string().min(1).optional(),
    /** The name the broker's certificate must carry, when it is not the URL's host. */
    servername: z.string().min(1).optional(),
    /** false accepts any broker certificate: for labs only. */
    rejectUnauthorized: z.boolean().default(true),
  })
  .strict()
  .refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), {
    message: 'give certFile and keyFile together',
  });

/**
 * 0 or 1. QoS 2 is not offered: mqtt.js keeps an incoming QoS 2 message in memory between PUBREC and
 * PUBREL, so a collector killed in between would lose a message the broker counts as delivered.
 */
const Qos = z
  .union([z.literal(0), z.literal(1)], {
    message: 'must be 0 or 1 (QoS 1 is at least once; see the docs on QoS 2)',
  })
  .default(1);

const FieldSpec = z.union([
  z.string().min(1),
  z
    .object({
      path: z.string().min(1),
      scale: z
        .number()
        .refine((n) => Number.isFinite(n) && n !== 0, 'must be a finite number other than 0')
        .default(1),
      offset: z.number().refine(Number.isFinite, 'must be finite').default(0),
      optional: z.boolean().default(false),
    })
    .strict(),
]);

const FlagSpec = z.union([
  z.string().min(1),
  z.object({ path: z.string().min(1), optional: z.boolean().default(false) }).strict(),
]);

const TimeSpec = z.union([
  z.literal('received'),
  z
    .object({
      path: z.string().min(1),
      format: z.enum(TIME_FORMATS, { message: `must be one of ${TIME_FORMATS.join(', ')}` }).default('iso'),
      /** Zone of a time written without an offset (`2026-01-01 10:00:00`). */
      zone: z.string().default('UTC'),
    })
    .strict(),
]);

const JsonSubscription = z
  .object({
    topic: z.string(),
    format: z.literal('json'),
    qos: Qos,
    site: z.string().min(1),
    equipment: z.string().min(1),
    device: z.string().min(1),
    rack: z.string().min(1).optional(),
    records: z.string().min(1).optional(),
    time: TimeSpec.default('received'),
    fields: z.record(FieldName, FieldSpec).default({}),
    flags: z.record(FieldName, FlagSpec).default({}),
  })
  .strict();

const Override = z
  .object({
    node: z.string().min(1),
    device: z.string().min(1).optional(),
    site: Identifier.optional(),
    equipment: EquipmentName.optional(),
    id: Identifier.optional(),
  })
  .strict();

const SparkplugSubscription = z
  .object({
    topic: z.string().default('spBv1.0/#'),
    format: z.literal('sparkplug'),
    qos: Qos,
    site: z.string().min(1).default('{group}'),
    equipment: z.string().min(1).default('sparkplug'),
    device: z.string().min(1).default('{node}.{device}'),
    nodeDevice: z.string().min(1).default('{node}'),
    overrides: z.array(Override).default([]),
    onlineFlag: FieldName.default('online'),
    /** A node that has not answered a rebirth request within this long is asked again. */
    rebirthTimeoutMs: z.number().int().min(1_000).max(3_600_000).default(30_000),
  })
  .strict();

const Subscription = z.discriminatedUnion('format', [JsonSubscription, SparkplugSubscription], {
  error: (issue) => (issue.code === 'invalid_union' ? 'must be json or sparkplug' : undefined),
});

const Broker = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - (up to 64)')
      .optional(),
    url: z
      .string()
      .regex(/^mqtts?:\/\/[^\s/:@]+(:\d+)?\/?$/, 'must be mqtt://host[:port] or mqtts://host[:port] (TLS)'),
    protocol: z.enum(['3.1.1', '5'], { message: 'must be "3.1.1" or "5"' }).default('5'),
    /** Fixed, so the broker keeps this collector's session (and what it queued) across restarts. */
    clientId: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
      .optional(),
    /** MQTT 5: how long the broker keeps the session (and queued QoS 1/2 messages) while the collector is away. */
    sessionExpirySeconds: z.number().int().min(0).max(4_294_967_295).default(604_800),
    keepaliveSeconds: z.number().int().min(1).max(65_535).default(30),
    connectTimeoutMs: z.number().int().min(1_000).default(30_000),
    reconnectPeriodMs: z.number().int().min(100).default(2_000),
    username: z.string().min(1).optional(),
    passwordEnv: EnvName.optional(),
    passwordFile: z.string().min(1).optional(),
    tls: Tls.optional(),
    /** A password over plain mqtt:// (no TLS) is refused unless this says the network is trusted (a lab). */
    allowPasswordWithoutTls: z.boolean().default(false),
    /** Payloads larger than this are dead-lettered `oversized` (their first 256 KiB kept). */
    maxPayloadBytes: z.number().int().min(1_024).max(268_435_455).default(1_048_576),
    subscriptions: z.array(Subscription).min(1),
  })
  .strict();

const FileSchema = z.object({ brokers: z.array(Broker).min(1) }).strict();

export interface JsonSubscriptionConfig {
  kind: 'json';
  filter: string;
  qos: 0 | 1;
  mapping: JsonMapping;
}

export interface SparkplugSubscriptionConfig {
  kind: 'sparkplug';
  filter: string;
  qos: 0 | 1;
  mapping: SparkplugMapping;
}

export type SubscriptionConfig = JsonSubscriptionConfig | SparkplugSubscriptionConfig;

export interface BrokerConfig {
  name: string;
  url: string;
  protocol: '3.1.1' | '5';
  clientId: string;
  sessionExpirySeconds: number;
  keepaliveSeconds: number;
  connectTimeoutMs: number;
  reconnectPeriodMs: number;
  username?: string;
  password?: string;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; servername?: string; rejectUnauthorized: boolean };
  maxPayloadBytes: number;
  subscriptions: SubscriptionConfig[];
}

export interface MqttFileConfig {
  path: string;
  brokers: BrokerConfig[];
}

type Env = Record<string, string | undefined>;

/** Reads and checks the file; every problem is returned (as `where: what`), none thrown. */
export function loadMqttConfigFile(path: string, env: Env): { config?: MqttFileConfig; problems: string[] } {
  const file = readConfigFile(path);
  if (file.problems.length > 0) return { problems: file.problems };
  return parseMqttConfig(file.raw, { path, env, baseDir: dirname(resolve(path)) });
}

export function parseMqttConfig(
  raw: unknown,
  { path, env, baseDir }: { path: string; env: Env; baseDir: string },
): { config?: MqttFileConfig; problems: string[] } {
  const problems: string[] = [];
  for (const where of findInlinePasswords(raw)) {
    problems.push(`${where}: passwords do not belong in the config file; use passwordEnv or passwordFile`);
  }
  const parsed = FileSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys' && issue.keys.includes('password')) continue; // reported above
      problems.push(`${issuePath(issue.path)}: ${issue.message}`);
    }
    return { problems };
  }

  const brokers: BrokerConfig[] = [];
  const names = new Set<string>();
  const clientIds = new Set<string>();
  parsed.data.brokers.forEach((b, bi) => {
    const at = `brokers[${bi}]`;
    const hostPort = b.url.replace(/^mqtts?:\/\//, '').replace(/\/$/, '');
    const name = b.name ?? hostPort.replace(/[^A-Za-z0-9_.-]+/g, '_');
    if (names.has(name)) problems.push(`${at}.name: "${name}" is used twice; give each broker its own name`);
    names.add(name);
    const clientId = b.clientId ?? `gridstream-mqtt-${name}`;
    if (b.protocol === '3.1.1' && clientId.length > 23)
      problems.push(
        `${at}.clientId: "${clientId}" is longer than 23 characters, which MQTT 3.1.1 brokers may refuse; set a shorter clientId`,
      );
    const hostKey = `${hostPort}#${clientId}`;
    if (clientIds.has(hostKey))
      problems.push(
        `${at}.clientId: "${clientId}" is used twice for one broker; each connection takes the other's session`,
      );
    clientIds.add(hostKey);

    const password = resolvePassword(b, at, env, baseDir, problems);
    if (password !== undefined && b.username === undefined)
      problems.push(`${at}.username: a password needs a username`);
    const tlsUrl = b.url.startsWith('mqtts://');
    if (b.tls && !tlsUrl) problems.push(`${at}.tls: TLS settings need an mqtts:// URL`);
    let tls: BrokerConfig['tls'];
    if (tlsUrl) {
      tls = { rejectUnauthorized: b.tls?.rejectUnauthorized ?? true };
      const read = (file: string | undefined, key: string): Buffer | undefined => {
        if (file === undefined) return undefined;
        try {
          return readFileSync(resolve(baseDir, file));
        } catch (error) {
          problems.push(`${at}.tls.${key}: ${(error as Error).message}`);
          return undefined;
        }
      };
      const ca = read(b.tls?.caFile, 'caFile');
      const cert = read(b.tls?.certFile, 'certFile');
      const key = read(b.tls?.keyFile, 'keyFile');
      if (ca) tls.ca = ca;
      if (cert) tls.cert = cert;
      if (key) tls.key = key;
      if (b.tls?.servername) tls.servername = b.tls.servername;
    } else if (password !== undefined && !b.allowPasswordWithoutTls) {
      problems.push(
        `${at}.url: a password over mqtt:// travels in clear text; use mqtts:// (TLS), or set allowPasswordWithoutTls on a trusted network`,
      );
    }

    const subscriptions: SubscriptionConfig[] = [];
    const filters = new Set<string>();
    b.subscriptions.forEach((s, si) => {
      const sat = `${at}.subscriptions[${si}]`;
      const fp = filterProblem(s.topic);
      if (fp) {
        problems.push(`${sat}.topic: ${fp}`);
        return;
      }
      if (filters.has(s.topic)) problems.push(`${sat}.topic: "${s.topic}" is subscribed twice`);
      filters.add(s.topic);
      const sub =
        s.format === 'json' ? jsonSubscription(s, sat, problems) : sparkplugSubscription(s, sat, problems);
      if (sub) subscriptions.push(sub);
    });

    const broker: BrokerConfig = {
      name,
      url: b.url.replace(/\/$/, ''),
      protocol: b.protocol,
      clientId,
      sessionExpirySeconds: b.sessionExpirySeconds,
      keepaliveSeconds: b.keepaliveSeconds,
      connectTimeoutMs: b.connectTimeoutMs,
      reconnectPeriodMs: b.reconnectPeriodMs,
      maxPayloadBytes: b.maxPayloadBytes,
      subscriptions,
    };
    if (b.username !== undefined) broker.username = b.username;
    if (password !== undefined) broker.password = password;
    if (tls) broker.tls = tls;
    brokers.push(broker);
  });
  return problems.length > 0 ? { problems } : { config: { path, brokers }, problems };
}

function template(
  text: string,
  rules: TemplateRules,
  at: string,
  problems: string[],
  literal?: z.ZodType,
): Template | undefined {
  try {
    const t = parseTemplate(text, rules);
    if (literal && isLiteral(t)) {
      const r = literal.safeParse(text);
      if (!r.success) {
        problems.push(`${at}: "${text}" ${r.error.issues[0]?.message ?? 'is invalid'}`);
        return undefined;
      }
    }
    return t;
  } catch (error) {
    problems.push(`${at}: ${(error as Error).message}`);
    return undefined;
  }
}

function path(text: string, at: string, problems: string[]): JsonPath | undefined {
  try {
    return parsePath(text);
  } catch (error) {
    problems.push(`${at}: path "${text}" ${(error as Error).message}`);
    return undefined;
  }
}

function jsonSubscription(
  s: z.infer<typeof JsonSubscription>,
  at: string,
  problems: string[],
): JsonSubscriptionConfig | undefined {
  const before = problems.length;
  const rules: TemplateRules = { levels: fixedLevels(s.topic), paths: true, vars: [] };
  const site = template(s.site, rules, `${at}.site`, problems, Identifier);
  const equipment = template(s.equipment, rules, `${at}.equipment`, problems, EquipmentName);
  const device = template(s.device, rules, `${at}.device`, problems, Identifier);
  const rack = s.rack !== undefined ? template(s.rack, rules, `${at}.rack`, problems, Identifier) : undefined;
  const records = s.records !== undefined ? path(s.records, `${at}.records`, problems) : undefined;
  let time: TimeMapping = { kind: 'received' };
  if (s.time !== 'received') {
    const p = path(s.time.path, `${at}.time.path`, problems);
    if (!isValidTimeZone(s.time.zone)) problems.push(`${at}.time.zone: "${s.time.zone}" is not a time zone`);
    if (p) time = { kind: 'path', path: p, format: s.time.format, zone: s.time.zone };
  }
  const fields: FieldMapping[] = [];
  for (const [name, spec] of Object.entries(s.fields)) {
    const o = typeof spec === 'string' ? { path: spec, scale: 1, offset: 0, optional: false } : spec;
    const p = path(o.path, `${at}.fields.${name}`, problems);
    if (p) fields.push({ name, path: p, scale: o.scale, offset: o.offset, optional: o.optional });
  }
  const flags: FlagMapping[] = [];
  for (const [name, spec] of Object.entries(s.flags)) {
    const o = typeof spec === 'string' ? { path: spec, optional: false } : spec;
    if (Object.hasOwn(s.fields, name))
      problems.push(`${at}.flags.${name}: "${name}" is a field already; a name is a field or a flag`);
    const p = path(o.path, `${at}.flags.${name}`, problems);
    if (p) flags.push({ name, path: p, optional: o.optional });
  }
  if (fields.length === 0 && flags.length === 0)
    problems.push(`${at}: map at least one reading under fields or flags`);
  if (problems.length > before || !site || !equipment || !device) return undefined;
  const mapping: JsonMapping = { site, equipment, device, time, fields, flags };
  if (rack) mapping.rack = rack;
  if (records) mapping.records = records;
  return { kind: 'json', filter: s.topic, qos: s.qos, mapping };
}

function sparkplugSubscription(
  s: z.infer<typeof SparkplugSubscription>,
  at: string,
  problems: string[],
): SparkplugSubscriptionConfig | undefined {
  const before = problems.length;
  const filter = topicFilterOf(s.topic);
  if (!filter.startsWith('spBv1.0/') && filter !== '#' && !filter.startsWith('+/'))
    problems.push(`${at}.topic: a Sparkplug B subscription is under spBv1.0/ (e.g. spBv1.0/<group>/#)`);
  const rules: TemplateRules = { levels: 0, paths: false, vars: ['group', 'node', 'device'] };
  const nodeRules: TemplateRules = { levels: 0, paths: false, vars: ['group', 'node'] };
  const site = template(s.site, nodeRules, `${at}.site`, problems, Identifier);
  const equipment = template(s.equipment, rules, `${at}.equipment`, problems, EquipmentName);
  const device = template(s.device, rules, `${at}.device`, problems, Identifier);
  const nodeDevice = template(s.nodeDevice, nodeRules, `${at}.nodeDevice`, problems, Identifier);
  if (problems.length > before || !site || !equipment || !device || !nodeDevice) return undefined;
  const overrides: SparkplugOverride[] = s.overrides.map((o) => {
    const out: SparkplugOverride = { node: o.node };
    if (o.device !== undefined) out.device = o.device;
    if (o.site !== undefined) out.site = o.site;
    if (o.equipment !== undefined) out.equipment = o.equipment;
    if (o.id !== undefined) out.id = o.id;
    return out;
  });
  return {
    kind: 'sparkplug',
    filter: s.topic,
    qos: s.qos,
    mapping: {
      site,
      equipment,
      device,
      nodeDevice,
      overrides,
      onlineFlag: s.onlineFlag,
      rebirthTimeoutMs: s.rebirthTimeoutMs,
    },
  };
}

function resolvePassword(
  b: { passwordEnv?: string | undefined; passwordFile?: string | undefined },
  at: string,
  env: Env,
  baseDir: string,
  problems: string[],
): string | undefined {
  const { passwordEnv, passwordFile } = b;
  if (passwordEnv !== undefined && passwordFile !== undefined) {
    problems.push(`${at}: give one of passwordEnv (a variable name) or passwordFile (a path), not both`);
    return undefined;
  }
  if (passwordEnv !== undefined) {
    let password = env[passwordEnv];
    // Same convention as every other secret here: NAME_FILE names a file holding NAME.
    const file = env[`${passwordEnv}_FILE`];
    if ((password === undefined || password === '') && file)
      password = readSecretFile(file, `${at}.passwordEnv`, problems);
    if (password === undefined || password === '') {
      problems.push(`${at}.passwordEnv: ${passwordEnv} is not set (nor ${passwordEnv}_FILE)`);
      return undefined;
    }
    return password;
  }
  if (passwordFile !== undefined)
    return readSecretFile(resolve(baseDir, passwordFile), `${at}.passwordFile`, problems);
  return undefined;
}

function findInlinePasswords(raw: unknown): string[] {
  const out: string[] = [];
  const brokers = (raw as { brokers?: unknown })?.brokers;
  if (!Array.isArray(brokers)) return out;
  brokers.forEach((b, i) => {
    if (b && typeof b === 'object' && 'password' in b) out.push(`brokers[${i}].password`);
  });
  return out;
}
