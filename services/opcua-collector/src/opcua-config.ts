import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { issuePath, readConfigFile, readSecretFile } from '@gridstream/config';
import {
  joinBrowsePath,
  type NodeRef,
  parseBrowsePath,
  SECURITY_MODE_NAMES,
  type SecurityPolicyName,
  SecurityPolicySchema,
  type UserIdentity,
} from '@gridstream/opcua';
import { EquipmentName, FieldName, Identifier } from '@gridstream/schema';
import { z } from 'zod';

/**
 * The OPC UA collector's endpoint file (YAML or JSON): which servers, how to log in, and which nodes
 * make up which device. Environment variables carry process settings; this file carries the plant model,
 * which is too nested for variables. Secrets never live here: a password is named by `passwordEnv` or
 * `passwordFile` and read when the file is loaded.
 */

const Deadband = z
  .object({
    type: z.enum(['absolute', 'percent']),
    value: z.number().nonnegative(),
  })
  .strict()
  .refine((d) => d.type !== 'percent' || d.value <= 100, { message: 'a percent deadband is at most 100' });
export type Deadband = z.infer<typeof Deadband>;

const Point = z
  .object({
    field: FieldName,
    nodeId: z.string().min(1).optional(),
    browsePath: z.string().min(1).optional(),
    relativePath: z.string().min(1).optional(),
    /** Informational: samples.v1 has no unit slot; documents what the field holds. */
    unit: z.string().optional(),
    deadband: Deadband.optional(),
    samplingIntervalMs: z.number().int().min(0).optional(),
  })
  .strict()
  .refine((p) => [p.nodeId, p.browsePath, p.relativePath].filter((x) => x !== undefined).length === 1, {
    message: 'give exactly one of nodeId, browsePath, relativePath',
  });

const Device = z
  .object({
    site: Identifier,
    equipment: EquipmentName,
    device: Identifier,
    rack: Identifier.optional(),
    /** Base for points whose browsePath does not start with "/". */
    browsePath: z.string().startsWith('/').optional(),
    points: z.array(Point).min(1),
  })
  .strict();

const Identity = z.discriminatedUnion('type', [
  z.object({ type: z.literal('anonymous') }).strict(),
  z
    .object({
      type: z.literal('username'),
      username: z.string().min(1),
      passwordEnv: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
        .optional(),
      passwordFile: z.string().min(1).optional(),
    })
    .strict(),
  z
    .object({ type: z.literal('certificate'), certificateFile: z.string(), privateKeyFile: z.string() })
    .strict(),
]);

/**
 * `auto` (the default): ask the server for its endpoints at every connect and take the strongest one this
 * collector can use (endpoint-choice.ts). None, Sign, SignAndEncrypt: exactly that, with `securityPolicy`.
 */
export const AUTO_SECURITY = 'auto';
const SECURITY_MODE_SETTINGS = [AUTO_SECURITY, ...SECURITY_MODE_NAMES] as const;
export type SecurityModeSetting = (typeof SECURITY_MODE_SETTINGS)[number];

const Endpoint = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - (up to 64)')
      .optional(),
    url: z.string().regex(/^opc\.tcp:\/\/[^\s/:]+(:\d+)?(\/.*)?$/, 'must be opc.tcp://host[:port][/path]'),
    /** Default auto, except with `securityPolicy: None` alone, which has always meant securityMode None. */
    securityMode: z
      .enum(SECURITY_MODE_SETTINGS, { message: `must be one of ${SECURITY_MODE_SETTINGS.join(', ')}` })
      .optional(),
    securityPolicy: SecurityPolicySchema.optional(),
    identity: Identity.default({ type: 'anonymous' }),
    mode: z.enum(['subscription', 'polling']).default('subscription'),
    samplingIntervalMs: z.number().int().min(0).default(1_000),
    publishingIntervalMs: z.number().int().min(10).default(1_000),
    pollIntervalMs: z.number().int().min(50).default(1_000),
    queueSize: z.number().int().min(1).max(10_000).default(10),
    deadband: Deadband.optional(),
    /** Notifications are held this long and grouped per device and source timestamp into samples. */
    bufferMs: z.number().int().min(0).max(10_000).default(200),
    maxKeepAliveCount: z.number().int().min(1).max(1_000).default(10),
    /** Rebuild the session when no publish response (data or keep-alive) arrived for this long. */
    staleAfterMs: z.number().int().min(1_000).optional(),
    reconnectMaxDelayMs: z.number().int().min(100).default(5_000),
    /** After the connection is back, give node-opcua this long to restore the session before starting over. */
    repairTimeoutMs: z.number().int().min(1_000).default(10_000),
    requestTimeoutMs: z.number().int().min(100).default(15_000),
    /** Servers that encrypt the user token themselves on a None channel (its user token policy says so). */
    allowPasswordOnUnsecuredChannel: z.boolean().default(false),
    devices: z.array(Device).min(1),
  })
  .strict();

const FileSchema = z.object({ endpoints: z.array(Endpoint).min(1) }).strict();

export interface PointConfig {
  field: string;
  ref: NodeRef;
  /** How the point was written in the file, for logs and errors. */
  label: string;
  unit?: string;
  deadband?: Deadband;
  samplingIntervalMs?: number;
}

export interface DeviceConfig {
  site: string;
  equipment: string;
  device: string;
  rack?: string;
  points: PointConfig[];
}

export interface EndpointConfig {
  name: string;
  url: string;
  /** 'auto': chosen from the server's endpoints at connect (securityPolicy is then 'auto' too). */
  securityMode: SecurityModeSetting;
  securityPolicy: SecurityPolicyName | typeof AUTO_SECURITY;
  /** With securityMode auto: may a password go over a None channel if that is all the server offers. */
  allowPasswordOnUnsecuredChannel: boolean;
  identity: UserIdentity;
  mode: 'subscription' | 'polling';
  samplingIntervalMs: number;
  publishingIntervalMs: number;
  pollIntervalMs: number;
  queueSize: number;
  deadband?: Deadband;
  bufferMs: number;
  maxKeepAliveCount: number;
  staleAfterMs: number;
  reconnectMaxDelayMs: number;
  repairTimeoutMs: number;
  requestTimeoutMs: number;
  devices: DeviceConfig[];
}

export interface OpcuaFileConfig {
  path: string;
  endpoints: EndpointConfig[];
}

type Env = Record<string, string | undefined>;

/** Reads and checks the file; every problem is returned (as `where: what`), none thrown. */
export function loadOpcuaConfigFile(
  path: string,
  env: Env,
): { config?: OpcuaFileConfig; problems: string[] } {
  const file = readConfigFile(path);
  if (file.problems.length > 0) return { problems: file.problems };
  return parseOpcuaConfig(file.raw, { path, env, baseDir: dirname(resolve(path)) });
}

export function parseOpcuaConfig(
  raw: unknown,
  { path, env, baseDir }: { path: string; env: Env; baseDir: string },
): { config?: OpcuaFileConfig; problems: string[] } {
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

  const endpoints: EndpointConfig[] = [];
  const names = new Set<string>();
  const fieldsSeen = new Map<string, string>();
  parsed.data.endpoints.forEach((e, ei) => {
    const at = `endpoints[${ei}]`;
    const name = e.name ?? e.url.replace(/^opc\.tcp:\/\//, '').replace(/[^A-Za-z0-9_.-]+/g, '_');
    if (names.has(name))
      problems.push(`${at}.name: "${name}" is used twice; give each endpoint its own name`);
    names.add(name);

    const securityMode: SecurityModeSetting =
      e.securityMode ?? (e.securityPolicy === 'None' ? 'None' : AUTO_SECURITY);
    let policy: SecurityPolicyName | typeof AUTO_SECURITY;
    if (securityMode === AUTO_SECURITY) {
      if (e.securityPolicy !== undefined)
        problems.push(
          e.securityPolicy === 'None'
            ? `${at}.securityPolicy: None goes with securityMode None, not auto`
            : `${at}.securityPolicy: ${e.securityPolicy} needs securityMode Sign or SignAndEncrypt (securityMode auto, the default, chooses the policy too)`,
        );
      policy = AUTO_SECURITY;
    } else if (securityMode === 'None') {
      if (e.securityPolicy !== undefined && e.securityPolicy !== 'None')
        problems.push(`${at}.securityPolicy: ${e.securityPolicy} needs securityMode Sign or SignAndEncrypt`);
      policy = 'None';
    } else if (e.securityPolicy === undefined || e.securityPolicy === 'None') {
      problems.push(`${at}.securityPolicy: securityMode ${securityMode} needs a policy, e.g. Basic256Sha256`);
      policy = 'None';
    } else policy = e.securityPolicy;

    const identity = resolveIdentity(e.identity, `${at}.identity`, env, baseDir, problems);
    // With auto the server's endpoints are known only at connect: the same rule is applied there.
    if (identity?.type === 'username' && securityMode === 'None' && !e.allowPasswordOnUnsecuredChannel) {
      // node-opcua encrypts the password with the server certificate when the endpoint's user token
      // policy asks for it; on a None channel without that, it would travel in clear text.
      problems.push(
        `${at}.identity: a password over securityMode None may travel unencrypted; use SignAndEncrypt (or set allowPasswordOnUnsecuredChannel if the server encrypts the token itself)`,
      );
    }

    const devices: DeviceConfig[] = [];
    e.devices.forEach((d, di) => {
      const dat = `${at}.devices[${di}]`;
      const deviceKey = `${d.site}/${d.equipment}/${d.device}${d.rack ? `/${d.rack}` : ''}`;
      const points: PointConfig[] = [];
      d.points.forEach((p, pi) => {
        const pat = `${dat}.points[${pi}]`;
        const key = `${deviceKey}#${p.field}`;
        const previous = fieldsSeen.get(key);
        if (previous)
          problems.push(`${pat}.field: ${deviceKey} field "${p.field}" is already read by ${previous}`);
        fieldsSeen.set(key, pat);
        let ref: NodeRef;
        let label: string;
        try {
          if (p.nodeId !== undefined) {
            ref = { kind: 'nodeId', nodeId: p.nodeId };
            label = p.nodeId;
          } else if (p.browsePath !== undefined) {
            const full = joinBrowsePath(d.browsePath, p.browsePath);
            parseBrowsePath(full);
            ref = { kind: 'browsePath', path: full };
            label = full;
          } else {
            ref = { kind: 'relativePath', path: p.relativePath! };
            label = p.relativePath!;
          }
        } catch (error) {
          problems.push(`${pat}: ${(error as Error).message}`);
          return;
        }
        const point: PointConfig = { field: p.field, ref, label };
        if (p.unit !== undefined) point.unit = p.unit;
        if (p.deadband !== undefined) point.deadband = p.deadband;
        if (p.samplingIntervalMs !== undefined) point.samplingIntervalMs = p.samplingIntervalMs;
        points.push(point);
      });
      const device: DeviceConfig = { site: d.site, equipment: d.equipment, device: d.device, points };
      if (d.rack !== undefined) device.rack = d.rack;
      devices.push(device);
    });

    if (!identity) return;
    const staleAfterMs =
      e.staleAfterMs ??
      Math.max(
        20_000,
        3 * (e.mode === 'polling' ? e.pollIntervalMs : e.publishingIntervalMs * e.maxKeepAliveCount),
      );
    const endpoint: EndpointConfig = {
      name,
      url: e.url,
      securityMode,
      securityPolicy: policy,
      allowPasswordOnUnsecuredChannel: e.allowPasswordOnUnsecuredChannel,
      identity,
      mode: e.mode,
      samplingIntervalMs: e.samplingIntervalMs,
      publishingIntervalMs: e.publishingIntervalMs,
      pollIntervalMs: e.pollIntervalMs,
      queueSize: e.queueSize,
      bufferMs: e.bufferMs,
      maxKeepAliveCount: e.maxKeepAliveCount,
      staleAfterMs,
      reconnectMaxDelayMs: e.reconnectMaxDelayMs,
      repairTimeoutMs: e.repairTimeoutMs,
      requestTimeoutMs: e.requestTimeoutMs,
      devices,
    };
    if (e.deadband !== undefined) endpoint.deadband = e.deadband;
    endpoints.push(endpoint);
  });
  return problems.length > 0 ? { problems } : { config: { path, endpoints }, problems };
}

function resolveIdentity(
  identity: z.infer<typeof Identity>,
  at: string,
  env: Env,
  baseDir: string,
  problems: string[],
): UserIdentity | undefined {
  if (identity.type === 'anonymous') return { type: 'anonymous' };
  if (identity.type === 'certificate') {
    try {
      return {
        type: 'certificate',
        certificatePem: readFileSync(resolve(baseDir, identity.certificateFile), 'utf8'),
        privateKeyPem: readFileSync(resolve(baseDir, identity.privateKeyFile), 'utf8'),
      };
    } catch (error) {
      problems.push(`${at}: ${(error as Error).message}`);
      return undefined;
    }
  }
  const { passwordEnv, passwordFile } = identity;
  if ((passwordEnv === undefined) === (passwordFile === undefined)) {
    problems.push(`${at}: give exactly one of passwordEnv (a variable name) or passwordFile (a path)`);
    return undefined;
  }
  let password: string | undefined;
  if (passwordEnv !== undefined) {
    password = env[passwordEnv];
    // Same convention as every other secret here: NAME_FILE names a file holding NAME.
    const file = env[`${passwordEnv}_FILE`];
    if ((password === undefined || password === '') && file)
      password = readSecretFile(file, `${at}.passwordEnv`, problems);
    if (password === undefined || password === '') {
      problems.push(`${at}.passwordEnv: ${passwordEnv} is not set`);
      return undefined;
    }
  } else {
    password = readSecretFile(resolve(baseDir, passwordFile!), `${at}.passwordFile`, problems);
    if (password === undefined) return undefined;
  }
  return { type: 'username', username: identity.username, password };
}

function findInlinePasswords(raw: unknown): string[] {
  const out: string[] = [];
  const endpoints = (raw as { endpoints?: unknown })?.endpoints;
  if (!Array.isArray(endpoints)) return out;
  endpoints.forEach((e, i) => {
    const identity = (e as { identity?: unknown })?.identity;
    if (identity && typeof identity === 'object' && 'password' in identity)
      out.push(`endpoints[${i}].identity.password`);
  });
  return out;
}
