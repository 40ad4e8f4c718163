import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '@gridstream/config';
import { PartitionTransactions } from '@gridstream/kafka';
import { loadQualityConfig } from '@gridstream/quality';
import { Ajv, type ValidateFunction } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { loadForecastConfig } from '../services/forecaster/src/forecast-series-config.js';
import { rulesFor } from '../services/forecaster/src/predicted-alarms.js';
import { makeMqttCollectorConfigSchema } from '../services/mqtt-collector/src/config.js';

/**
 * deploy/helm/gridstream, checked without a cluster: `helm lint --strict`, `helm template` with the default
 * values and with every optional part switched on (ci/all-features-values.yaml), each rendered object checked
 * against the schema the Kubernetes API server itself serves for its group/version/kind (the OpenAPI v3
 * documents of k8s.io/kubernetes, and the CRDs of the Prometheus Operator and KEDA for the optional kinds),
 * with unknown fields refused. Then the rules that are ours: probes and ports at each service's HEALTH_PORT,
 * every variable known to and accepted by the service's own config schema, credentials only in the Secret,
 * the security context, and bad values refused by values.schema.json or the templates.
 * deploy/local/helm.sh installs helm (built from its Go module) and the schemas under .local/ (`infra.sh up
 * test`); after that nothing here needs the network.
 */

const root = join(import.meta.dirname, '..');
const helmScript = join(root, 'deploy/local/helm.sh');
const chart = join(root, 'deploy/helm/gridstream');
const allFeatures = join(chart, 'ci/all-features-values.yaml');
const run = promisify(execFile);

const RELEASE = 'gs';
const NAMESPACE = 'telemetry';
const FULLNAME = 'gs-gridstream';
const SERVICES = [
  'bridge',
  'parser',
  'influx-writer',
  'timescale-writer',
  'opentsdb-writer',
  'archiver',
  'modbus-collector',
  'opcua-collector',
  'serial-collector',
  'mqtt-collector',
  'forecaster',
  'console',
  'simulator',
] as const;
type ServiceName = (typeof SERVICES)[number];
const DEFAULT_ON: ServiceName[] = ['bridge', 'parser', 'influx-writer', 'archiver', 'console'];
const CONSUMERS: Partial<Record<ServiceName, { groupVar: string; topicVar: string }>> = {
  parser: { groupVar: 'PARSER_GROUP_ID', topicVar: 'KAFKA_TOPIC_RAW' },
  'influx-writer': { groupVar: 'WRITER_GROUP_ID', topicVar: 'KAFKA_TOPIC_PARSED' },
  'timescale-writer': { groupVar: 'WRITER_GROUP_ID', topicVar: 'KAFKA_TOPIC_PARSED' },
  'opentsdb-writer': { groupVar: 'WRITER_GROUP_ID', topicVar: 'KAFKA_TOPIC_PARSED' },
  archiver: { groupVar: 'ARCHIVER_GROUP_ID', topicVar: 'KAFKA_TOPIC_PARSED' },
};
/** Peak RSS measured with uncapped heaps (docs/operations.md "Memory", docs/benchmarks.md, docs/reliability.md), MiB. */
const MEASURED_PEAK_MIB: Record<ServiceName, number> = {
  bridge: 247,
  parser: 358,
  'influx-writer': 554,
  // Not measured yet: values.yaml gives the two other writers the influx-writer's resources as a starting
  // point (the same sink seam), hence its figure.
  'timescale-writer': 554,
  'opentsdb-writer': 554,
  archiver: 887,
  'modbus-collector': 260,
  'opcua-collector': 387,
  // Measured at the demo's rates only (one port with two meters; the simulator's MQTT devices): 113–116 and
  // 120–125 MiB. Not measured under load yet.
  'serial-collector': 116,
  'mqtt-collector': 125,
  // Not measured yet: values.yaml gives it the simulator's resources as a starting point, hence its figure.
  forecaster: 135,
  console: 135 + 256,
  simulator: 135,
};
/** The values ci/all-features-values.yaml gives secrets.*: none of them may appear outside the Secret. */
const PLACEHOLDER_SECRETS = [
  'placeholder-key-passphrase',
  'placeholder-influx-token',
  'placeholder-metrics-password',
  'PLACEHOLDERKEYID',
  'placeholder-secret-access-key',
  'placeholder-amqp-password',
  'placeholder-amqp-key-passphrase',
  'placeholder-console-password',
  'placeholder-console-token-0123456789',
  'placeholder-session-secret-0123456789abcdef',
  'placeholder-pg-password',
  'placeholder-opentsdb-password',
  'placeholder-mqtt-password',
];
const AWS_SDK_VARIABLES = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'];
const SECRET_NAME = /PASSWORD|TOKEN|SECRET|SSL_KEY$|TLS_KEY$|ACCESS_KEY_ID/;

// ---- the objects ----------------------------------------------------------------------------------------

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    secretKeyRef?: { name: string; key: string; optional?: boolean };
  };
}
interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
  securityContext?: Record<string, unknown> & { capabilities?: { drop?: string[] } };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  command?: string[];
}
interface Volume {
  name: string;
  emptyDir?: { sizeLimit?: string };
  persistentVolumeClaim?: { claimName: string };
  configMap?: { name: string; items?: { key: string; path: string }[] };
  secret?: { secretName: string };
}
interface PodSpec {
  containers: Container[];
  volumes?: Volume[];
  securityContext?: Record<string, unknown>;
  terminationGracePeriodSeconds?: number;
  automountServiceAccountToken?: boolean;
}
interface Workload extends K8sObject {
  spec: {
    replicas?: number;
    strategy?: { type: string };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}
interface ConfigMap extends K8sObject {
  data?: Record<string, string>;
}
interface Secret extends K8sObject {
  data?: Record<string, string>;
}
interface ServiceObject extends K8sObject {
  spec: {
    selector: Record<string, string>;
    ports: { name: string; port: number; targetPort: string | number }[];
    publishNotReadyAddresses?: boolean;
  };
}

interface Rendered {
  objects: K8sObject[];
  find<T extends K8sObject = K8sObject>(kind: string, name: string): T;
  all<T extends K8sObject = K8sObject>(kind: string): T[];
}

function rendered(objects: K8sObject[]): Rendered {
  return {
    objects,
    find<T extends K8sObject>(kind: string, name: string): T {
      const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
      expect(found, `${kind}/${name} rendered once`).toHaveLength(1);
      return found[0] as T;
    },
    all<T extends K8sObject>(kind: string): T[] {
      return objects.filter((o) => o.kind === kind) as T[];
    },
  };
}

// ---- helm ------------------------------------------------------------------------------------------------

let helmBin = '';
let schemaDir = '';
let work = '';
let sampleFiles = '';

async function helm(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(helmBin, args, {
      maxBuffer: 64 * 1024 * 1024,
      // No kube config, no cache in $HOME: nothing here may reach for a cluster or a repository.
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: work,
        KUBECONFIG: join(work, 'no-kubeconfig'),
        HELM_CACHE_HOME: join(work, 'helm-cache'),
        HELM_CONFIG_HOME: join(work, 'helm-config'),
        HELM_DATA_HOME: join(work, 'helm-data'),
      },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function template(args: string[] = [], release = RELEASE): Promise<Rendered> {
  const result = await helm(['template', release, chart, '--namespace', NAMESPACE, ...args]);
  expect(result.stderr, 'helm template: stderr').toBe('');
  expect(result.code, `helm template ${args.join(' ')}`).toBe(0);
  const objects = parseAllDocuments(result.stdout)
    .map((doc) => {
      expect(doc.errors, 'rendered YAML parses').toEqual([]);
      return doc.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
  return rendered(objects);
}

async function templateRefused(args: string[]): Promise<string> {
  const result = await helm(['template', RELEASE, chart, '--namespace', NAMESPACE, ...args]);
  expect(result.code, `helm template ${args.join(' ')} is refused`).not.toBe(0);
  expect(result.stdout, 'nothing rendered').toBe('');
  return result.stderr;
}

// ---- the Kubernetes API schemas, offline --------------------------------------------------------------------

type Schema = Record<string, unknown>;

/**
 * Unknown fields are refused, as the API server's strict field validation (kubectl's default since 1.27)
 * does: every object schema with properties and no additionalProperties of its own gets
 * additionalProperties: false, except where the schema says unknown fields are kept
 * (x-kubernetes-preserve-unknown-fields). Walks schema positions only, so a field that happens to be called
 * `properties` is not mistaken for a keyword.
 */
function strict(schema: unknown): unknown {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return schema;
  const s = { ...(schema as Schema) };
  if (s.properties && typeof s.properties === 'object') {
    s.properties = Object.fromEntries(Object.entries(s.properties as Schema).map(([k, v]) => [k, strict(v)]));
    if (!('additionalProperties' in s) && s['x-kubernetes-preserve-unknown-fields'] !== true)
      s.additionalProperties = false;
  }
  if (typeof s.additionalProperties === 'object') s.additionalProperties = strict(s.additionalProperties);
  if (Array.isArray(s.items)) s.items = s.items.map(strict);
  else if (typeof s.items === 'object') s.items = strict(s.items);
  for (const key of ['allOf', 'anyOf', 'oneOf'])
    if (Array.isArray(s[key])) s[key] = (s[key] as unknown[]).map(strict);
  if (typeof s.not === 'object') s.not = strict(s.not);
  return s;
}

class KubernetesSchemas {
  private readonly ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  /** `group/version/kind` → the $ref of its schema. */
  private readonly refs = new Map<string, string>();
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(dir: string) {
    const openapi = join(dir, 'openapi-v3');
    for (const file of readdirSync(openapi).filter((f) => f.endsWith('.json'))) {
      const doc = JSON.parse(readFileSync(join(openapi, file), 'utf8')) as {
        components?: { schemas?: Record<string, Schema> };
      };
      const schemas = doc.components?.schemas ?? {};
      const id = `k8s:${file}`;
      this.ajv.addSchema(
        {
          $id: id,
          components: {
            schemas: Object.fromEntries(Object.entries(schemas).map(([k, v]) => [k, strict(v)])),
          },
        },
        id,
      );
      for (const [name, schema] of Object.entries(schemas)) {
        for (const gvk of (schema['x-kubernetes-group-version-kind'] as
          | { group: string; version: string; kind: string }[]
          | undefined) ?? []) {
          const key = `${gvk.group}/${gvk.version}/${gvk.kind}`;
          // The same kind appears in several documents (the group's and its version's): any one will do.
          if (!this.refs.has(key)) this.refs.set(key, `${id}#/components/schemas/${name}`);
        }
      }
    }
    const crds = join(dir, 'crds');
    for (const file of readdirSync(crds).filter((f) => f.endsWith('.yaml'))) {
      const crd = parseYaml(readFileSync(join(crds, file), 'utf8')) as {
        spec: {
          group: string;
          names: { kind: string };
          versions: { name: string; schema: { openAPIV3Schema: Schema } }[];
        };
      };
      for (const version of crd.spec.versions) {
        const id = `crd:${crd.spec.group}/${version.name}/${crd.spec.names.kind}`;
        this.ajv.addSchema({ $id: id, ...(strict(version.schema.openAPIV3Schema) as Schema) }, id);
        this.refs.set(`${crd.spec.group}/${version.name}/${crd.spec.names.kind}`, id);
      }
    }
  }

  get kinds(): number {
    return this.refs.size;
  }

  /** The problems of one object against its kind's schema; empty when it is valid. */
  problems(object: { apiVersion?: unknown; kind?: unknown }): string[] {
    const apiVersion = String(object.apiVersion);
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    const key = `${group}/${version}/${String(object.kind)}`;
    const ref = this.refs.get(key);
    if (!ref) return [`no schema for ${apiVersion} ${String(object.kind)}`];
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile({ $ref: ref });
      this.compiled.set(key, validate);
    }
    if (validate(object)) return [];
    return (validate.errors ?? []).map(
      (e) =>
        `${e.instancePath || '/'} ${e.message ?? ''}${e.params && 'additionalProperty' in e.params ? `: ${String(e.params.additionalProperty)}` : ''}`,
    );
  }
}

let schemas: KubernetesSchemas;

const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** The API schema, plus what the API server checks beyond it: names and label values. */
function expectValid(objects: K8sObject[]): void {
  for (const object of objects) {
    const what = `${object.kind}/${object.metadata?.name}`;
    expect(schemas.problems(object), what).toEqual([]);
    expect(object.metadata.name, `${what}: name`).toMatch(DNS_SUBDOMAIN);
    expect(object.metadata.name.length, `${what}: name length`).toBeLessThanOrEqual(253);
    if (['Service', 'Deployment'].includes(object.kind)) {
      expect(object.metadata.name, `${what}: a DNS label`).toMatch(DNS_LABEL);
      expect(object.metadata.name.length, `${what}: name length`).toBeLessThanOrEqual(63);
    }
    expect(object.metadata.namespace, `${what}: namespace`).toBe(NAMESPACE);
    for (const [key, value] of Object.entries(object.metadata.labels ?? {})) {
      expect(value, `${what}: label ${key}`).toMatch(LABEL_VALUE);
      expect(value.length, `${what}: label ${key}`).toBeLessThanOrEqual(63);
    }
  }
}

// ---- the services' own config schemas ----------------------------------------------------------------------

interface EnvField {
  parse(value: unknown): unknown;
}
interface ServiceSchema {
  shape: Record<string, EnvField>;
}

/** The zod object a service's config.ts exports (found by shape, as test/docker-compose.int.test.ts does). */
async function serviceSchema(service: string): Promise<ServiceSchema> {
  const mod = (await import(join(root, 'services', service, 'src', 'config.ts'))) as Record<string, unknown>;
  const found = Object.values(mod).filter(
    (v): v is ServiceSchema =>
      typeof v === 'object' && v !== null && 'shape' in v && 'HEALTH_PORT' in (v as ServiceSchema).shape,
  );
  expect(found, `services/${service}/src/config.ts exports exactly one config schema`).toHaveLength(1);
  return found[0]!;
}

async function healthPort(service: string): Promise<number> {
  return (await serviceSchema(service)).shape.HEALTH_PORT!.parse(undefined) as number;
}

const deploymentName = (service: string) => `${FULLNAME}-${service}`;

function container(r: Rendered, service: string): Container {
  const pod = r.find<Workload>('Deployment', deploymentName(service)).spec.template.spec;
  expect(pod.containers, `${service}: one container`).toHaveLength(1);
  return pod.containers[0]!;
}

/**
 * The environment the service's process would see in its pod: its ConfigMap, then its env entries (which win),
 * secret references resolved from the chart's Secret or, for a Secret made elsewhere, a placeholder, and
 * $(VAR) references expanded as the kubelet does. Paths under the pod's mounts are moved to `mounts`.
 */
function podEnv(r: Rendered, service: string, mounts: Record<string, string> = {}): Record<string, string> {
  const c = container(r, service);
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) {
    expect(from.configMapRef, `${service}: envFrom only ConfigMaps`).toBeDefined();
    Object.assign(env, r.find<ConfigMap>('ConfigMap', from.configMapRef!.name).data ?? {});
  }
  const secret = r.all<Secret>('Secret')[0];
  for (const entry of c.env ?? []) {
    const from = entry.valueFrom;
    if (entry.value !== undefined)
      env[entry.name] = entry.value.replace(/\$\((\w+)\)/g, (_, v: string) => env[v] ?? '');
    else if (from?.fieldRef) env[entry.name] = `${deploymentName(service)}-7d9f8c6b5-x2k4q`;
    else if (from?.secretKeyRef) {
      const ref = from.secretKeyRef;
      const value =
        secret && ref.name === secret.metadata.name
          ? secret.data?.[ref.key] && Buffer.from(secret.data[ref.key]!, 'base64').toString('utf8')
          : entry.name === 'AMQP_URL'
            ? // As the chart's amqp.url: amqps:// where it sets TLS files.
              `${env.AMQP_URL?.startsWith('amqps:') ? 'amqps' : 'amqp'}://gridstream:from-a-secret@rabbitmq:5672`
            : `value-of-${ref.name}-${ref.key}-from-a-secret-made-elsewhere`;
      if (value) env[entry.name] = value;
      else expect(ref.optional, `${service}: ${entry.name} refers to a key the Secret lacks`).toBe(true);
    }
  }
  for (const [key, value] of Object.entries(env))
    for (const [from, to] of Object.entries(mounts))
      if (value.startsWith(`${from}/`)) env[key] = to + value.slice(from.length);
  return env;
}

/** The files a pod sees under each ConfigMap or Secret mount, written to a folder of `work`; mount → folder. */
function materializeMounts(r: Rendered, service: string): Record<string, string> {
  const pod = r.find<Workload>('Deployment', deploymentName(service)).spec.template.spec;
  const out: Record<string, string> = {};
  for (const mount of pod.containers[0]!.volumeMounts ?? []) {
    const volume = pod.volumes?.find((v) => v.name === mount.name);
    expect(volume, `${service}: volume ${mount.name}`).toBeDefined();
    const dir = join(work, 'mounts', service, mount.name);
    if (volume!.configMap) {
      const cm = r.find<ConfigMap>('ConfigMap', volume!.configMap.name);
      for (const item of volume!.configMap.items ?? []) {
        expect(cm.data?.[item.key], `${service}: ${cm.metadata.name} has key ${item.key}`).toBeDefined();
        mkdirSync(dirname(join(dir, item.path)), { recursive: true });
        writeFileSync(join(dir, item.path), cm.data![item.key]!);
      }
      out[mount.mountPath] = dir;
    } else if (volume!.secret) {
      // Secrets made elsewhere (the Kafka CA and client certificate): something in their place.
      mkdirSync(dir, { recursive: true });
      for (const item of (volume!.secret as { items?: { path: string }[] }).items ?? [])
        writeFileSync(
          join(dir, item.path),
          '-----BEGIN CERTIFICATE-----\nplaceholder\n-----END CERTIFICATE-----\n',
        );
      out[mount.mountPath] = dir;
    }
  }
  return out;
}

// ---- setup ---------------------------------------------------------------------------------------------------

let defaults: Rendered;
let full: Rendered;
let existing: Rendered;

beforeAll(async () => {
  // Idempotent: builds helm and copies the schemas only when `infra.sh up test` has not already.
  await run(helmScript, ['install'], { maxBuffer: 16 * 1024 * 1024 });
  helmBin = (await run(helmScript, ['path'])).stdout.trim();
  schemaDir = (await run(helmScript, ['schemas'])).stdout.trim();
  work = mkdtempSync(join(tmpdir(), 'gs-helm-'));
  schemas = new KubernetesSchemas(schemaDir);
  // The files ci/all-features-values.yaml names, from sample/, in the layout their relative paths expect.
  const sample = (path: string) => readFileSync(join(root, 'sample', path), 'utf8');
  sampleFiles = join(work, 'sample-files.yaml');
  writeFileSync(
    sampleFiles,
    stringifyYaml({
      services: {
        parser: {
          files: {
            'quality/ess-protection.yaml': sample('quality/ess-protection.yaml'),
            'profiles/ess-sionyu.yaml': sample('profiles/ess-sionyu.yaml'),
          },
        },
        'modbus-collector': {
          files: {
            'modbus/collector-compose.yaml': sample('modbus/collector-compose.yaml'),
            'profiles/ess-sionyu.yaml': sample('profiles/ess-sionyu.yaml'),
          },
        },
        'opcua-collector': {
          files: { 'opcua/collector-compose.yaml': sample('opcua/collector-compose.yaml') },
        },
        'serial-collector': {
          files: { 'serial/collector-compose.yaml': sample('serial/collector-compose.yaml') },
        },
        'mqtt-collector': {
          files: { 'mqtt/collector-compose.yaml': sample('mqtt/collector-compose.yaml') },
        },
        // Its series file is in ci/all-features-values.yaml; the alarm rules behind its early warnings here.
        forecaster: {
          files: {
            'quality/ess-protection.yaml': sample('quality/ess-protection.yaml'),
            'profiles/ess-sionyu.yaml': sample('profiles/ess-sionyu.yaml'),
          },
        },
      },
    }),
  );
  [defaults, full, existing] = await Promise.all([
    template(),
    template(['-f', allFeatures, '-f', sampleFiles]),
    template(['-f', allFeatures, '-f', sampleFiles, '--set', 'secrets.existingSecret=plant-gridstream']),
  ]);
}, 900_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

// ---- the tests ---------------------------------------------------------------------------------------------

describe('the schema check itself', () => {
  it('has the schema of every kind the chart renders, from the cached API documents', () => {
    expect(schemas.kinds).toBeGreaterThan(100);
    expect(schemas.problems({ apiVersion: 'example.com/v1', kind: 'Widget' })).toEqual([
      'no schema for example.com/v1 Widget',
    ]);
  });

  it('refuses unknown fields, missing required fields and wrong types, in core kinds and in CRDs', () => {
    const deployment = structuredClone(defaults.find<Workload>('Deployment', deploymentName('parser')));
    expect(schemas.problems(deployment)).toEqual([]);

    const unknownSpec = structuredClone(deployment) as unknown as { spec: Record<string, unknown> };
    unknownSpec.spec.replica = 2;
    expect(schemas.problems(unknownSpec as never).join('\n')).toMatch(
      /\/spec must NOT have additional properties: replica/,
    );

    const unknownDeep = structuredClone(deployment);
    (unknownDeep.spec.template.spec.containers[0] as unknown as Record<string, unknown>).livenesProbe = {};
    expect(schemas.problems(unknownDeep).join('\n')).toMatch(
      /containers\/0 must NOT have additional properties: livenesProbe/,
    );

    const wrongType = structuredClone(deployment) as unknown as { spec: { replicas: unknown } };
    wrongType.spec.replicas = 'two';
    expect(schemas.problems(wrongType as never).join('\n')).toMatch(/\/spec\/replicas must be integer/);

    const missing = structuredClone(deployment);
    delete (missing.spec.template.spec as Partial<PodSpec>).containers;
    expect(schemas.problems(missing).join('\n')).toMatch(/must have required property 'containers'/);

    const badPort = structuredClone(deployment);
    (badPort.spec.template.spec.containers[0]!.ports![0] as { containerPort: unknown }).containerPort =
      '9102';
    expect(schemas.problems(badPort).join('\n')).toMatch(/ports\/0\/containerPort must be integer/);

    const monitor = structuredClone(full.find('ServiceMonitor', FULLNAME)) as unknown as {
      spec: { endpoints: Record<string, unknown>[] };
    };
    expect(schemas.problems(monitor as never)).toEqual([]);
    monitor.spec.endpoints[0]!.scrapeInterval = '30s';
    expect(schemas.problems(monitor as never).join('\n')).toMatch(/additional properties: scrapeInterval/);

    const scaled = structuredClone(full.find('ScaledObject', deploymentName('parser'))) as unknown as {
      spec: Record<string, unknown>;
    };
    delete scaled.spec.scaleTargetRef;
    expect(schemas.problems(scaled as never).join('\n')).toMatch(/required property 'scaleTargetRef'/);
  });
});

describe('helm lint', () => {
  it('passes --strict with the default values and with every optional part on', async () => {
    for (const args of [[], ['-f', allFeatures]]) {
      const result = await helm(['lint', '--strict', chart, ...args]);
      expect(result.stdout + result.stderr, `helm lint --strict ${args.join(' ')}`).toMatch(
        /1 chart\(s\) linted, 0 chart\(s\) failed/,
      );
      expect(result.code).toBe(0);
      expect(result.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
    }
  });
});

describe('helm template: the default values', () => {
  it('renders exactly the pipeline: five services, their config, the credentials and the topics job', () => {
    const names = defaults.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(names).toEqual(
      [
        `ServiceAccount/${FULLNAME}`,
        `Secret/${FULLNAME}-credentials`,
        `Job/${FULLNAME}-topics-1`,
        `Service/${FULLNAME}-console`,
        ...DEFAULT_ON.flatMap((s) => [
          `Deployment/${FULLNAME}-${s}`,
          `ConfigMap/${FULLNAME}-${s}-env`,
          `Service/${FULLNAME}-${s}-metrics`,
        ]),
      ].sort(),
    );
  });

  it('is valid against the Kubernetes API schemas', () => {
    expectValid(defaults.objects);
  });

  it('generates the console password and session secret, since none was given', () => {
    const secret = defaults.find<Secret>('Secret', `${FULLNAME}-credentials`);
    expect(Object.keys(secret.data ?? {}).sort()).toEqual(['console-password', 'console-session-secret']);
    const decoded = (key: string) => Buffer.from(secret.data![key]!, 'base64').toString('utf8');
    expect(decoded('console-password')).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(decoded('console-session-secret')).toMatch(/^[A-Za-z0-9]{48}$/);
  });
});

describe('helm template: every optional part on', () => {
  it('renders exactly every service, volumes, budgets, the ServiceMonitor and the KEDA objects', () => {
    const names = full.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    const withFiles = [
      'parser',
      'modbus-collector',
      'opcua-collector',
      'serial-collector',
      'mqtt-collector',
      'forecaster',
    ];
    const withVolume = [
      'modbus-collector',
      'opcua-collector',
      'serial-collector',
      'mqtt-collector',
      'forecaster',
    ];
    expect(names).toEqual(
      [
        `ServiceAccount/${FULLNAME}`,
        `Secret/${FULLNAME}-credentials`,
        `Job/${FULLNAME}-topics-1`,
        `Service/${FULLNAME}-console`,
        `Service/${FULLNAME}-simulator`,
        `ServiceMonitor/${FULLNAME}`,
        ...SERVICES.flatMap((s) => [
          `Deployment/${FULLNAME}-${s}`,
          `ConfigMap/${FULLNAME}-${s}-env`,
          `Service/${FULLNAME}-${s}-metrics`,
        ]),
        ...withFiles.map((s) => `ConfigMap/${FULLNAME}-${s}-files`),
        ...withVolume.map((s) => `PersistentVolumeClaim/${FULLNAME}-${s}-data`),
        ...[
          'bridge',
          'parser',
          'influx-writer',
          'timescale-writer',
          'opentsdb-writer',
          'archiver',
          'console',
        ].map((s) => `PodDisruptionBudget/${FULLNAME}-${s}`),
        ...Object.keys(CONSUMERS).flatMap((s) => [
          `ScaledObject/${FULLNAME}-${s}`,
          `TriggerAuthentication/${FULLNAME}-${s}-kafka`,
        ]),
      ].sort(),
    );
  });

  it('is valid against the Kubernetes API schemas and the ServiceMonitor and KEDA CRDs', () => {
    expectValid(full.objects);
  });

  it('keeps every name valid with the longest release name Helm allows (53 characters)', async () => {
    const release = `plant-${'x'.repeat(53 - 'plant-'.length)}`;
    const long = await template(['-f', allFeatures, '-f', sampleFiles], release);
    expect(long.objects.length).toBe(full.objects.length);
    expectValid(long.objects);
    // Shortened names must stay distinct: one object per kind and name.
    const names = long.objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(new Set(names).size).toBe(names.length);
  });

  it('with secrets.existingSecret: no Secret of its own, every credential read from that one', () => {
    expectValid(existing.objects);
    expect(existing.all('Secret')).toEqual([]);
    const refs = existing
      .all<Workload>('Deployment')
      .flatMap((d) => d.spec.template.spec.containers.flatMap((c) => c.env ?? []))
      .flatMap((e) => (e.valueFrom?.secretKeyRef ? [{ env: e.name, ...e.valueFrom.secretKeyRef }] : []));
    // The Kafka password comes from the KafkaUser's own Secret, the OPC UA one from the user's extraEnv.
    const elsewhere = new Set(['KAFKA_SASL_PASSWORD', 'CONTROLLER_OPCUA_PASSWORD']);
    const ours = refs.filter((r) => !elsewhere.has(r.env));
    expect(ours.length).toBeGreaterThan(10);
    for (const ref of ours) {
      expect(ref.name, ref.env).toBe('plant-gridstream');
      // A key that Secret lacks leaves the variable unset: the service names what is missing at start.
      expect(ref.optional, ref.env).toBe(true);
    }
    expect(new Set(ours.map((r) => r.env))).toEqual(
      new Set([
        'KAFKA_SSL_KEY_PASSWORD',
        'METRICS_INFLUX_PASSWORD',
        'AMQP_URL',
        'AMQP_PASSWORD',
        'AMQP_TLS_KEY_PASSWORD',
        'INFLUX_PASSWORD',
        'INFLUX_TOKEN',
        'AWS_ACCESS_KEY_ID',
        'AWS_SECRET_ACCESS_KEY',
        'CONSOLE_PASSWORD',
        'CONSOLE_TOKEN',
        'CONSOLE_SESSION_SECRET',
        'PG_PASSWORD',
        'OPENTSDB_PASSWORD',
        'MQTT_PASSWORD',
      ]),
    );
  });
});

describe('the services in their pods', () => {
  it("probe /healthz/live and /healthz/ready on the HEALTH_PORT default of each service's config schema", async () => {
    for (const r of [defaults, full]) {
      for (const deployment of r.all<Workload>('Deployment')) {
        const service = deployment.spec.template.metadata.labels['app.kubernetes.io/component']!;
        const port = await healthPort(service);
        const c = container(r, service);
        expect(c.name).toBe(service);
        const metrics = c.ports?.find((p) => p.name === 'metrics');
        expect(metrics?.containerPort, `${service}: metrics port`).toBe(port);
        expect(c.livenessProbe?.httpGet, `${service}: liveness`).toEqual({
          path: '/healthz/live',
          port: 'metrics',
        });
        expect(c.readinessProbe?.httpGet, `${service}: readiness`).toEqual({
          path: '/healthz/ready',
          port: 'metrics',
        });
        expect(c.startupProbe?.httpGet, `${service}: startup`).toEqual({
          path: '/healthz/live',
          port: 'metrics',
        });
        const env = podEnv(r, service);
        // The process listens where the probes knock, on every interface of the pod.
        expect(env.HEALTH_PORT, `${service}: HEALTH_PORT`).toBe(String(port));
        expect(env.HEALTH_HOST, `${service}: HEALTH_HOST`).toBe('0.0.0.0');
        const svc = r.find<ServiceObject>('Service', `${FULLNAME}-${service}-metrics`);
        expect(svc.spec.ports, `${service}: metrics Service`).toEqual([
          { name: 'metrics', port, targetPort: 'metrics', protocol: 'TCP' },
        ]);
        expect(svc.spec.selector).toEqual({
          'app.kubernetes.io/name': 'gridstream',
          'app.kubernetes.io/instance': RELEASE,
          'app.kubernetes.io/component': service,
        });
        // An unready pod's metrics and readiness answer are the ones that matter.
        expect(svc.spec.publishNotReadyAddresses).toBe(true);
        for (const [key, value] of Object.entries(svc.spec.selector))
          expect(deployment.spec.template.metadata.labels[key], `${service}: pod label ${key}`).toBe(value);
        // Kubernetes waits longer than the ordered stop's own deadline before it kills.
        expect(deployment.spec.template.spec.terminationGracePeriodSeconds! * 1000).toBeGreaterThan(
          Number(env.SHUTDOWN_TIMEOUT_MS),
        );
      }
    }
  });

  it('point the console at every enabled service, and the ServiceMonitor at every metrics Service', async () => {
    for (const r of [defaults, full]) {
      const env = podEnv(r, 'console');
      const polled = Object.fromEntries(
        env.CONSOLE_SERVICES!.split(',').map((e) => e.split('=') as [string, string]),
      );
      const enabled = r
        .all<Workload>('Deployment')
        .map((d) => d.spec.template.metadata.labels['app.kubernetes.io/component']!)
        .filter((s) => s !== 'console')
        .sort();
      expect(Object.keys(polled).sort()).toEqual(enabled);
      for (const [service, url] of Object.entries(polled))
        expect(url).toBe(`http://${FULLNAME}-${service}-metrics:${await healthPort(service)}`);
      const ui = r.find<ServiceObject>('Service', `${FULLNAME}-console`);
      expect(ui.spec.ports.map((p) => p.targetPort)).toEqual(['http']);
      expect(container(r, 'console').ports?.find((p) => p.name === 'http')?.containerPort).toBe(
        Number(env.CONSOLE_PORT),
      );
      // The console answers to its Service's names (anything else gets 421).
      expect(env.CONSOLE_ALLOWED_HOSTS!.split(',')).toEqual(
        expect.arrayContaining([`${FULLNAME}-console`, `${FULLNAME}-console.${NAMESPACE}.svc.cluster.local`]),
      );
    }
    const monitor = full.find('ServiceMonitor', FULLNAME) as unknown as {
      spec: {
        selector: { matchLabels: Record<string, string> };
        endpoints: { port: string; path: string }[];
      };
    };
    const selected = full
      .all<ServiceObject>('Service')
      .filter((s) =>
        Object.entries(monitor.spec.selector.matchLabels).every(([k, v]) => s.metadata.labels?.[k] === v),
      )
      .map((s) => s.metadata.name)
      .sort();
    expect(selected).toEqual(SERVICES.map((s) => `${FULLNAME}-${s}-metrics`).sort());
    expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: 'metrics', path: '/metrics' })]);
  });

  it("set only variables the service's config schema declares, with values it accepts", async () => {
    for (const [label, r] of [
      ['defaults', defaults],
      ['all features', full],
      ['existingSecret', existing],
    ] as const) {
      for (const deployment of r.all<Workload>('Deployment')) {
        const service = deployment.spec.template.metadata.labels['app.kubernetes.io/component']!;
        const schema = await serviceSchema(service);
        const mounts = materializeMounts(r, service);
        const env = podEnv(r, service, mounts);
        const declared = Object.keys(schema.shape);
        const sdk = declared.includes('ARCHIVE_S3_BUCKET') ? AWS_SDK_VARIABLES : [];
        // Node's own NODE_OPTIONS, HOME (the writable /tmp), the pod name the client id is made of, the
        // OPC UA password that ci/all-features-values.yaml passes through extraEnv for a passwordEnv, and the
        // MQTT password (secrets.mqttPassword) a broker file's `passwordEnv: MQTT_PASSWORD` reads.
        const known = new Set([
          ...declared,
          ...declared.map((k) => `${k}_FILE`),
          ...sdk,
          'NODE_OPTIONS',
          'HOME',
          'POD_NAME',
          'CONTROLLER_OPCUA_PASSWORD',
          ...(service === 'mqtt-collector' ? ['MQTT_PASSWORD'] : []),
        ]);
        expect(
          Object.keys(env).filter((k) => !known.has(k)),
          `${label}: ${service}: variables its config does not declare`,
        ).toEqual([]);
        // The whole environment through the service's own loader: types, enums, cross-field rules, the
        // collector config and quality files (with the device profiles they name relative to themselves).
        expect(() => loadConfig(schema as never, env), `${label}: ${service}`).not.toThrow();
      }
    }
  });

  it('run as uid 1000, never root, on a read-only root filesystem with /tmp and /app/.local writable', () => {
    for (const r of [defaults, full]) {
      const pods = [...r.all<Workload>('Deployment'), ...r.all<Workload>('Job')];
      for (const workload of pods) {
        const what = `${workload.kind}/${workload.metadata.name}`;
        const pod = workload.spec.template.spec;
        expect(pod.securityContext, what).toMatchObject({
          runAsNonRoot: true,
          runAsUser: 1000,
          runAsGroup: 1000,
        });
        expect(pod.automountServiceAccountToken, what).toBe(false);
        for (const c of pod.containers) {
          expect(c.securityContext, what).toMatchObject({
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
          });
          expect(c.securityContext?.capabilities?.drop, what).toEqual(['ALL']);
          const mounted = (path: string) => {
            const mount = c.volumeMounts?.find((m) => m.mountPath === path);
            expect(mount, `${what}: ${path} mounted`).toBeDefined();
            const volume = pod.volumes?.find((v) => v.name === mount!.name);
            expect(
              volume?.emptyDir ?? volume?.persistentVolumeClaim,
              `${what}: ${path} writable`,
            ).toBeDefined();
            expect(mount!.readOnly, `${what}: ${path}`).not.toBe(true);
          };
          mounted('/tmp');
          if (workload.kind === 'Deployment') mounted('/app/.local');
          for (const m of c.volumeMounts ?? []) {
            const volume = pod.volumes?.find((v) => v.name === m.name);
            if (volume?.configMap || volume?.secret) expect(m.readOnly, `${what}: ${m.mountPath}`).toBe(true);
          }
        }
      }
    }
    // The collectors keep their spool and certificates on their claim, the forecaster its saved models, and
    // only one pod ever holds it.
    for (const service of [
      'modbus-collector',
      'opcua-collector',
      'serial-collector',
      'mqtt-collector',
      'forecaster',
    ]) {
      const d = full.find<Workload>('Deployment', deploymentName(service));
      expect(d.spec.strategy?.type, service).toBe('Recreate');
      expect(
        d.spec.template.spec.volumes?.find((v) => v.name === 'local')?.persistentVolumeClaim?.claimName,
      ).toBe(`${FULLNAME}-${service}-data`);
    }
  });

  it('ask for memory from the measured RSS: requests and limits on every container, limits above the peaks', () => {
    for (const r of [defaults, full]) {
      for (const deployment of r.all<Workload>('Deployment')) {
        const service = deployment.spec.template.metadata.labels[
          'app.kubernetes.io/component'
        ] as ServiceName;
        const { requests, limits } = container(r, service).resources ?? {};
        for (const key of ['cpu', 'memory']) {
          expect(requests?.[key], `${service}: requests.${key}`).toBeDefined();
          expect(limits?.[key], `${service}: limits.${key}`).toBeDefined();
        }
        expect(mebibytes(limits!.memory!), `${service}: limit ≥ request`).toBeGreaterThanOrEqual(
          mebibytes(requests!.memory!),
        );
        expect(mebibytes(limits!.memory!), `${service}: limit above the measured peak`).toBeGreaterThan(
          MEASURED_PEAK_MIB[service],
        );
      }
    }
  });
});

function mebibytes(quantity: string | number): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|k|M|G)?$/.exec(String(quantity));
  expect(m, `memory quantity ${quantity}`).not.toBeNull();
  const factor: Record<string, number> = {
    Ki: 1 / 1024,
    Mi: 1,
    Gi: 1024,
    k: 1e3 / 2 ** 20,
    M: 1e6 / 2 ** 20,
    G: 1e9 / 2 ** 20,
  };
  return Number(m![1]) * (m![2] ? factor[m![2]]! : 1 / 2 ** 20);
}

describe('credentials', () => {
  it('are never written into a ConfigMap, a pod spec or any other object than the Secret', () => {
    for (const r of [defaults, full, existing]) {
      const secretValues = [
        ...PLACEHOLDER_SECRETS,
        ...r
          .all<Secret>('Secret')
          .flatMap((s) => Object.values(s.data ?? {}).map((v) => Buffer.from(v, 'base64').toString('utf8'))),
      ];
      for (const object of r.objects.filter((o) => o.kind !== 'Secret')) {
        const text = JSON.stringify(object);
        for (const value of secretValues)
          expect(text.includes(value), `${object.kind}/${object.metadata.name} holds a secret value`).toBe(
            false,
          );
      }
      for (const cm of r.all<ConfigMap>('ConfigMap')) {
        for (const [key, value] of Object.entries(cm.data ?? {})) {
          expect(key, `${cm.metadata.name}: a credential's name`).not.toMatch(SECRET_NAME);
          // No URL with a user:password in it (amqp://u:p@host, http://u:p@host).
          expect(value, `${cm.metadata.name}: ${key}`).not.toMatch(
            /[a-z][a-z0-9+.-]*:\/\/[^/\s@]+:[^/\s@]+@/i,
          );
        }
      }
      // Credentials reach the processes only by reference.
      for (const workload of [...r.all<Workload>('Deployment'), ...r.all<Workload>('Job')])
        for (const c of workload.spec.template.spec.containers)
          for (const e of c.env ?? [])
            if (SECRET_NAME.test(e.name) || e.name === 'AMQP_URL')
              expect(e.valueFrom?.secretKeyRef, `${workload.metadata.name}: ${e.name}`).toBeDefined();
    }
    // ...and the ones given are in the Secret, each under its key.
    const secret = full.find<Secret>('Secret', `${FULLNAME}-credentials`);
    const decoded = Object.values(secret.data ?? {}).map((v) => Buffer.from(v, 'base64').toString('utf8'));
    expect(decoded.sort()).toEqual([...PLACEHOLDER_SECRETS].sort());
  });

  it('reach each service that needs them, and no other', () => {
    const refs = (r: Rendered, service: string) =>
      (container(r, service).env ?? [])
        .filter((e) => e.valueFrom?.secretKeyRef)
        .map((e) => e.name)
        .sort();
    expect(refs(full, 'console')).toEqual(
      [
        'AWS_ACCESS_KEY_ID',
        'AWS_SECRET_ACCESS_KEY',
        'CONSOLE_PASSWORD',
        'CONSOLE_SESSION_SECRET',
        'CONSOLE_TOKEN',
        'KAFKA_SASL_PASSWORD',
        'KAFKA_SSL_KEY_PASSWORD',
        'METRICS_INFLUX_PASSWORD',
      ].sort(),
    );
    expect(refs(full, 'bridge')).toEqual(
      [
        'AMQP_PASSWORD',
        'AMQP_TLS_KEY_PASSWORD',
        'KAFKA_SASL_PASSWORD',
        'KAFKA_SSL_KEY_PASSWORD',
        'METRICS_INFLUX_PASSWORD',
      ].sort(),
    );
    expect(refs(full, 'influx-writer')).toEqual(
      ['INFLUX_TOKEN', 'KAFKA_SASL_PASSWORD', 'KAFKA_SSL_KEY_PASSWORD', 'METRICS_INFLUX_PASSWORD'].sort(),
    );
    expect(refs(full, 'forecaster')).toEqual(
      ['INFLUX_TOKEN', 'KAFKA_SASL_PASSWORD', 'KAFKA_SSL_KEY_PASSWORD', 'METRICS_INFLUX_PASSWORD'].sort(),
    );
    expect(refs(full, 'timescale-writer')).toEqual(
      ['KAFKA_SASL_PASSWORD', 'KAFKA_SSL_KEY_PASSWORD', 'METRICS_INFLUX_PASSWORD', 'PG_PASSWORD'].sort(),
    );
    expect(refs(full, 'opentsdb-writer')).toEqual(
      [
        'KAFKA_SASL_PASSWORD',
        'KAFKA_SSL_KEY_PASSWORD',
        'METRICS_INFLUX_PASSWORD',
        'OPENTSDB_PASSWORD',
      ].sort(),
    );
    expect(refs(full, 'simulator')).toEqual([
      'AMQP_PASSWORD',
      'AMQP_TLS_KEY_PASSWORD',
      'METRICS_INFLUX_PASSWORD',
    ]);
    expect(refs(full, 'mqtt-collector')).toEqual(
      ['KAFKA_SASL_PASSWORD', 'KAFKA_SSL_KEY_PASSWORD', 'METRICS_INFLUX_PASSWORD', 'MQTT_PASSWORD'].sort(),
    );
    expect(refs(full, 'serial-collector')).toEqual(
      ['KAFKA_SASL_PASSWORD', 'KAFKA_SSL_KEY_PASSWORD', 'METRICS_INFLUX_PASSWORD'].sort(),
    );
    // Strimzi's KafkaUser Secret holds the SASL password under `password`.
    expect(
      container(full, 'parser').env?.find((e) => e.name === 'KAFKA_SASL_PASSWORD')?.valueFrom?.secretKeyRef,
    ).toEqual({
      name: 'gridstream',
      key: 'password',
    });
    expect(refs(defaults, 'parser')).toEqual([]);
  });
});

describe('scaling', () => {
  it("gives the parser's replicas one group and no per-pod transactional id: the ids are per raw partition", () => {
    // packages/kafka forms the ids from the group and the INPUT partition: whoever owns raw partition P uses
    // <group>-<topic>-P, so a replica that lost P is fenced by the next owner. A per-pod id would fence
    // nothing; the chart must not invent one.
    const txns = new PartitionTransactions({
      kafka: {} as never,
      groupId: 'gridstream-parser',
      transactionalIdPrefix: 'gridstream-parser',
      logger: { child: () => ({}) } as never,
    });
    expect(txns.transactionalId('telemetry.raw', 3)).toBe('gridstream-parser-telemetry.raw-3');
    for (const r of [defaults, full]) {
      const env = podEnv(r, 'parser');
      expect(Object.keys(env).filter((k) => /TRANSACTION/.test(k))).toEqual([]);
      expect(env.PARSER_GROUP_ID).toBe('gridstream-parser');
      // The client id is per pod (brokers' logs and quotas), from the pod's name.
      const clientId = container(r, 'parser').env?.find((e) => e.name === 'KAFKA_CLIENT_ID');
      expect(clientId?.value).toBe('$(POD_NAME)');
      const names = container(r, 'parser').env!.map((e) => e.name);
      expect(names.indexOf('POD_NAME')).toBeLessThan(names.indexOf('KAFKA_CLIENT_ID'));
    }
  });

  it("scales each consumer on its own group's lag on the topic it reads, up to the partition count", () => {
    for (const [service, { groupVar, topicVar }] of Object.entries(CONSUMERS)) {
      const scaled = full.find('ScaledObject', deploymentName(service)) as unknown as {
        spec: {
          scaleTargetRef: { kind: string; name: string };
          maxReplicaCount: number;
          triggers: {
            type: string;
            metadata: Record<string, string>;
            authenticationRef?: { name: string };
          }[];
        };
      };
      const env = podEnv(full, service);
      expect(scaled.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: deploymentName(service) });
      const [trigger] = scaled.spec.triggers;
      expect(trigger?.type).toBe('kafka');
      expect(trigger?.metadata).toMatchObject({
        bootstrapServers: env.KAFKA_BROKERS,
        consumerGroup: env[groupVar],
        topic: env[topicVar],
        sasl: 'scram_sha512',
        tls: 'enable',
        allowIdleConsumers: 'false',
      });
      expect(scaled.spec.maxReplicaCount).toBeLessThanOrEqual(Number(env.KAFKA_TOPIC_PARTITIONS));
      expect(trigger?.authenticationRef?.name).toBe(`${deploymentName(service)}-kafka`);
      // KEDA owns the replica count; a replicas field would be reset on every upgrade.
      expect(full.find<Workload>('Deployment', deploymentName(service)).spec.replicas).toBeUndefined();
    }
    expect(defaults.find<Workload>('Deployment', deploymentName('parser')).spec.replicas).toBe(1);
  });
});

describe('bad values', () => {
  const refusals: [string, string[], RegExp][] = [
    [
      'replicas "two"',
      ['--set', 'services.parser.replicas=two'],
      /\/services\/parser\/replicas': got string, want integer/,
    ],
    [
      'an unknown service',
      ['--set', 'services.pasrer.enabled=true'],
      /additional properties 'pasrer' not allowed/,
    ],
    [
      'an unknown key of a service',
      ['--set', 'services.parser.replica=2'],
      /additional properties 'replica' not allowed/,
    ],
    [
      'an unknown top-level key',
      ['--set', 'kafak.partitions=3'],
      /additional properties 'kafak' not allowed/,
    ],
    [
      'KEDA on a service that consumes nothing',
      ['--set', 'services.bridge.keda.enabled=true'],
      /additional properties 'keda' not allowed/,
    ],
    [
      'a password in a ConfigMap',
      ['--set', 'services.parser.env.INFLUX_PASSWORD=hunter2'],
      /invalid propertyName 'INFLUX_PASSWORD'/,
    ],
    [
      'credentials in amqp.url',
      ['--set', 'amqp.url=amqp://guest:guest@rabbitmq:5672'],
      /\/amqp\/url'.*does not match pattern/,
    ],
    [
      'AMQP TLS files with a plain amqp:// URL',
      ['--set', 'amqp.tls.caSecret.name=rabbitmq-ca'],
      /\/amqp\/url': 'amqp:\/\/rabbitmq:5672' does not match pattern '\^amqps:\/\/'/,
    ],
    [
      'a number where a ConfigMap needs a string',
      ['--set', 'services.parser.env.PARSER_FETCH_BYTES=8388608'],
      /PARSER_FETCH_BYTES': got number, want string/,
    ],
    [
      'a bad memory quantity',
      ['--set', 'services.parser.resources.limits.memory=lots'],
      /\/services\/parser\/resources\/limits\/memory'/,
    ],
    ['an unknown SASL mechanism', ['--set', 'kafka.sasl.mechanism=gssapi'], /\/kafka\/sasl\/mechanism'/],
    ['SASL without a user', ['--set', 'kafka.sasl.mechanism=plain'], /\/kafka\/sasl\/username'/],
    [
      'a file outside /etc/gridstream',
      ['--set-json', 'services.parser.files={"../etc/passwd":"x"}'],
      /invalid propertyName '\.\.\/etc\/passwd'/,
    ],
    [
      'a collector without its config file',
      ['--set', 'services.modbus-collector.enabled=true'],
      /\/services\/modbus-collector\/env': missing property 'MODBUS_CONFIG'/,
    ],
    [
      'the forecaster without its series file',
      ['--set', 'services.forecaster.enabled=true'],
      /\/services\/forecaster\/env': missing property 'FORECAST_CONFIG'/,
    ],
    [
      'two forecasters',
      [
        '--set',
        'services.forecaster.enabled=true',
        '--set',
        'services.forecaster.env.FORECAST_CONFIG=/etc/gridstream/forecast/series.yaml',
        '--set',
        'services.forecaster.replicas=2',
      ],
      /\/services\/forecaster\/replicas': maximum: got 2, want 1/,
    ],
    [
      'two replicas on one volume',
      [
        '--set',
        'services.opcua-collector.enabled=true',
        '--set',
        'services.opcua-collector.env.OPCUA_CONFIG=/etc/gridstream/opcua.yaml',
        '--set',
        'services.opcua-collector.persistence.enabled=true',
        '--set',
        'services.opcua-collector.replicas=2',
      ],
      /\/services\/opcua-collector\/replicas': maximum: got 2, want 1/,
    ],
    [
      'running as root',
      ['--set', 'podSecurityContext.runAsNonRoot=false'],
      /\/podSecurityContext\/runAsNonRoot'/,
    ],
    [
      'a PostgreSQL password in a ConfigMap',
      ['--set', 'services.timescale-writer.env.PG_PASSWORD=hunter2'],
      /invalid propertyName 'PG_PASSWORD'/,
    ],
    ['an unknown PostgreSQL TLS mode', ['--set', 'postgresql.ssl=prefer'], /\/postgresql\/ssl'/],
    [
      'a PostgreSQL CA that would go unused (ssl not verify-full)',
      ['--set', 'postgresql.caSecret.name=timescale-ca'],
      /\/postgresql\/ssl': value must be 'verify-full'/,
    ],
    [
      'a PostgreSQL schema the writer refuses',
      ['--set', 'postgresql.schema=Telemetry'],
      /\/postgresql\/schema'.*does not match pattern/,
    ],
    [
      'credentials in opentsdb.url',
      ['--set', 'opentsdb.url=http://gridstream:hunter2@opentsdb:4242'],
      /\/opentsdb\/url'.*does not match pattern/,
    ],
    [
      'KEDA on the timescale-writer without its bounds',
      ['--set', 'services.timescale-writer.keda.maxReplicas=null'],
      /\/services\/timescale-writer\/keda': missing property 'maxReplicas'/,
    ],
    [
      'the serial collector without its port file',
      ['--set', 'services.serial-collector.enabled=true'],
      /\/services\/serial-collector\/env': missing property 'SERIAL_CONFIG'/,
    ],
    [
      'the MQTT collector without its broker file',
      ['--set', 'services.mqtt-collector.enabled=true'],
      /\/services\/mqtt-collector\/env': missing property 'MQTT_CONFIG'/,
    ],
    [
      'an MQTT password in a ConfigMap',
      ['--set', 'services.mqtt-collector.env.MQTT_PASSWORD=hunter2'],
      /invalid propertyName 'MQTT_PASSWORD'/,
    ],
    [
      'two MQTT collectors (one session at the broker)',
      [
        '--set',
        'services.mqtt-collector.enabled=true',
        '--set',
        'services.mqtt-collector.env.MQTT_CONFIG=/etc/gridstream/mqtt.yaml',
        '--set',
        'services.mqtt-collector.replicas=2',
      ],
      /\/services\/mqtt-collector\/replicas': maximum: got 2, want 1/,
    ],
    [
      'two serial collectors',
      ['--set', 'services.serial-collector.replicas=2'],
      /\/services\/serial-collector\/replicas': maximum: got 2, want 1/,
    ],
    [
      'a serial device resource without a count',
      ['--set-string', 'services.serial-collector.device.resources.squat\\.ai/serial=one'],
      /\/services\/serial-collector\/device\/resources\/squat\.ai~1serial': got string, want integer/,
    ],
    [
      'a serial device resource named like a core resource',
      ['--set', 'services.serial-collector.device.resources.memory=1'],
      // (helm's validator names a wrong place for a propertyNames failure; the message is right)
      /invalid propertyName 'memory'[\s\S]*'memory' does not match pattern '\^\[a-z0-9\]/,
    ],
    [
      'MQTT TLS material from a Secret named wrong',
      ['--set', 'mqtt.tls.caSecret.name=Plant_CA'],
      /\/mqtt\/tls\/caSecret\/name'/,
    ],
  ];

  it.each(refusals)('refuses %s', async (_what, args, message) => {
    const stderr = await templateRefused(args);
    expect(stderr).toMatch(message);
    // helm lint reads the same values.schema.json.
    const lint = await helm(['lint', '--strict', chart, ...args]);
    expect(lint.code).not.toBe(0);
    expect(lint.stdout + lint.stderr).toMatch(message);
  });

  // Rules across the values that a JSON schema cannot state, checked by the templates (`fail`): they stop
  // `helm template`, `install` and `upgrade`; helm lint only logs a template's fail, so it is not asked here.
  // The collector rules are in the schema too; the templates repeat them for --skip-schema-validation.
  const templateRefusals: [string, string[], RegExp][] = [
    [
      'more KEDA replicas than partitions',
      ['--set', 'services.parser.keda.enabled=true', '--set', 'services.parser.keda.maxReplicas=7'],
      /services\.parser\.keda\.maxReplicas \(7\) is above kafka\.partitions \(6\)/,
    ],
    [
      'KEDA minReplicas above maxReplicas',
      [
        '--set',
        'services.archiver.keda.enabled=true',
        '--set',
        'services.archiver.keda.minReplicas=5',
        '--set',
        'services.archiver.keda.maxReplicas=3',
      ],
      /services\.archiver\.keda\.minReplicas \(5\) is above maxReplicas \(3\)/,
    ],
    [
      'a collector without its config file, schema skipped',
      ['--skip-schema-validation', '--set', 'services.modbus-collector.enabled=true'],
      /services\.modbus-collector: set env\.MODBUS_CONFIG/,
    ],
    [
      'the forecaster without its series file, schema skipped',
      ['--skip-schema-validation', '--set', 'services.forecaster.enabled=true'],
      /services\.forecaster: set env\.FORECAST_CONFIG/,
    ],
    [
      'two forecasters, schema skipped',
      [
        '--skip-schema-validation',
        '--set',
        'services.forecaster.enabled=true',
        '--set',
        'services.forecaster.env.FORECAST_CONFIG=/etc/gridstream/forecast/series.yaml',
        '--set',
        'services.forecaster.replicas=2',
      ],
      /services\.forecaster: replicas must be 0 or 1/,
    ],
    [
      'two MQTT collectors, schema skipped',
      [
        '--skip-schema-validation',
        '--set',
        'services.mqtt-collector.enabled=true',
        '--set',
        'services.mqtt-collector.env.MQTT_CONFIG=/etc/gridstream/mqtt.yaml',
        '--set',
        'services.mqtt-collector.replicas=2',
      ],
      /services\.mqtt-collector: replicas must be 0 or 1 \(the broker file's fixed clientId is one session/,
    ],
    [
      'the serial collector without its port file, schema skipped',
      ['--skip-schema-validation', '--set', 'services.serial-collector.enabled=true'],
      /services\.serial-collector: set env\.SERIAL_CONFIG/,
    ],
    [
      'two replicas on one volume, schema skipped',
      [
        '--skip-schema-validation',
        '--set',
        'services.console.persistence.enabled=true',
        '--set',
        'services.console.replicas=2',
      ],
      /services\.console: persistence\.enabled needs replicas 1/,
    ],
  ];

  it.each(templateRefusals)('refuses %s (templates)', async (_what, args, message) => {
    expect(await templateRefused(args)).toMatch(message);
  });

  it('accepts the same settings spelt right (the refusals above are about the value, not the flag)', async () => {
    await template(['--set', 'services.parser.replicas=2']);
    await template(['--set-string', 'services.parser.env.PARSER_FETCH_BYTES=8388608']);
    await template(['--set', 'amqp.url=amqp://rabbitmq.messaging:5672/plant']);
    await template([
      '--set',
      'services.parser.keda.enabled=true',
      '--set',
      'services.parser.keda.maxReplicas=6',
    ]);
    await template(['--set', 'kafka.sasl.mechanism=plain', '--set', 'kafka.sasl.username=gridstream']);
    await template(['--set', 'postgresql.ssl=verify-full', '--set', 'postgresql.caSecret.name=timescale-ca']);
    await template(['--set', 'postgresql.schema=telemetry']);
    await template(['--set', 'opentsdb.url=http://opentsdb:4242', '--set', 'opentsdb.username=gridstream']);
    await template([
      '--set',
      'services.forecaster.enabled=true',
      '--set',
      'services.forecaster.env.FORECAST_CONFIG=/etc/gridstream/forecast/series.yaml',
      '--set',
      'services.forecaster.replicas=1',
    ]);
  });
});

describe('the forecaster', () => {
  it('is off by default, and on: one replica, replaced with Recreate, probed on 9109, polled by the console', async () => {
    expect(await healthPort('forecaster')).toBe(9109);
    expect(defaults.objects.filter((o) => o.metadata.name.includes('forecaster'))).toEqual([]);
    expect(podEnv(defaults, 'console').CONSOLE_SERVICES).not.toMatch(/forecaster=/);

    const d = full.find<Workload>('Deployment', deploymentName('forecaster'));
    // One replica serves every series: a second, even for the moment of a rolling update, would write every
    // forecast and raise every early warning twice.
    expect(d.spec.replicas).toBe(1);
    expect(d.spec.strategy?.type).toBe('Recreate');
    expect(full.all('ScaledObject').map((o) => o.metadata.name)).not.toContain(deploymentName('forecaster'));
    const c = container(full, 'forecaster');
    expect(c.image).toBe('registry.example.com/gridstream/forecaster:1.2.3');
    expect(c.ports).toEqual([{ name: 'metrics', containerPort: 9109, protocol: 'TCP' }]);
    for (const probe of [c.startupProbe, c.livenessProbe, c.readinessProbe])
      expect(probe?.httpGet?.port).toBe('metrics');
    expect(
      full.find<ServiceObject>('Service', `${FULLNAME}-forecaster-metrics`).spec.ports.map((p) => p.port),
    ).toEqual([9109]);
    expect(podEnv(full, 'console').CONSOLE_SERVICES!.split(',')).toContain(
      `forecaster=http://${FULLNAME}-forecaster-metrics:9109`,
    );
  });

  it('reads history from and writes forecasts to the InfluxDB the writer uses, and alarms to its topic', () => {
    const env = podEnv(full, 'forecaster');
    const writer = podEnv(full, 'influx-writer');
    for (const key of Object.keys(writer).filter(
      (k) => k.startsWith('INFLUX_') || k.startsWith('KAFKA_TOPIC_'),
    ))
      expect(env[key], key).toBe(writer[key]);
    expect(env.INFLUX_TOKEN).toBe('placeholder-influx-token');
    // The saved models on the claim at /app/.local: a restarted pod forecasts with them at once.
    expect(env.FORECAST_MODEL_DIR).toBe('/app/.local/forecast-models');
    const pod = full.find<Workload>('Deployment', deploymentName('forecaster')).spec.template.spec;
    const local = pod.containers[0]!.volumeMounts?.find((m) => m.mountPath === '/app/.local');
    expect(pod.volumes?.find((v) => v.name === local?.name)?.persistentVolumeClaim?.claimName).toBe(
      `${FULLNAME}-forecaster-data`,
    );
  });

  it("mounts a series file and alarm rules that the forecaster's own loaders accept", async () => {
    const env = podEnv(full, 'forecaster', materializeMounts(full, 'forecaster'));
    const series = await loadForecastConfig(env.FORECAST_CONFIG!);
    const quality = await loadQualityConfig(env.QUALITY_CONFIG!);
    // Early warnings: the series' own band, and the quality rule that watches the very field forecast.
    expect(series.map((s) => rulesFor(s, quality).rules.map((r) => r.name))).toEqual([
      ['predicted_soc_low'],
      ['predicted_cell_over_voltage'],
    ]);
  });
});

describe('the optional sinks (timescale-writer, opentsdb-writer)', () => {
  const SINKS = ['timescale-writer', 'opentsdb-writer'] as const;

  it('are off by default; on, each is probed on its own port and polled by the console', async () => {
    expect([await healthPort('timescale-writer'), await healthPort('opentsdb-writer')]).toEqual([9110, 9111]);
    for (const service of SINKS) {
      expect(defaults.objects.filter((o) => o.metadata.name.includes(service))).toEqual([]);
      expect(podEnv(defaults, 'console').CONSOLE_SERVICES).not.toContain(`${service}=`);
      const port = await healthPort(service);
      const c = container(full, service);
      expect(c.image).toBe(`registry.example.com/gridstream/${service}:1.2.3`);
      expect(c.ports).toEqual([{ name: 'metrics', containerPort: port, protocol: 'TCP' }]);
      expect(podEnv(full, 'console').CONSOLE_SERVICES!.split(',')).toContain(
        `${service}=http://${FULLNAME}-${service}-metrics:${port}`,
      );
      // Their own consumer group (the service's default), so each sink reads every record.
      expect(podEnv(full, service).WRITER_GROUP_ID).toBe(`gridstream-${service}`);
    }
    expect(podEnv(full, 'influx-writer').WRITER_GROUP_ID).toBe('gridstream-influx-writer');
  });

  it('gives the timescale-writer PG_PASSWORD from the Secret and the rest from `postgresql`', async () => {
    const r = await template([
      '--set',
      'services.timescale-writer.enabled=true',
      '--set-string',
      'secrets.pgPassword=pg-secret-from-values',
    ]);
    expectValid(r.objects);
    const secret = r.find<Secret>('Secret', `${FULLNAME}-credentials`);
    expect(Buffer.from(secret.data?.['pg-password'] ?? '', 'base64').toString('utf8')).toBe(
      'pg-secret-from-values',
    );
    const entry = container(r, 'timescale-writer').env?.find((e) => e.name === 'PG_PASSWORD');
    expect(entry?.valueFrom?.secretKeyRef).toEqual({
      name: `${FULLNAME}-credentials`,
      key: 'pg-password',
      optional: true,
    });
    const env = podEnv(r, 'timescale-writer');
    expect(env).toMatchObject({
      PG_PASSWORD: 'pg-secret-from-values',
      PG_HOST: 'postgresql',
      PG_PORT: '5432',
      PG_DATABASE: 'gridstream',
      PG_USER: 'gridstream',
      PG_SSL: 'disable',
      PG_SCHEMA: 'public',
    });
    expect(env.PG_SSL_CA_FILE).toBeUndefined();
    const schema = await serviceSchema('timescale-writer');
    expect(() => loadConfig(schema as never, env)).not.toThrow();
    // Only the service that needs it gets it; the password is in the Secret and nowhere else.
    for (const other of ['influx-writer', 'archiver', 'console'])
      expect(
        container(r, other).env?.map((e) => e.name),
        other,
      ).not.toContain('PG_PASSWORD');
    for (const object of r.objects.filter((o) => o.kind !== 'Secret'))
      expect(JSON.stringify(object), `${object.kind}/${object.metadata.name}`).not.toContain(
        'pg-secret-from-values',
      );

    // From a Secret made elsewhere: its key pg-password, optional like every reference into it.
    expect(
      container(existing, 'timescale-writer').env?.find((e) => e.name === 'PG_PASSWORD')?.valueFrom
        ?.secretKeyRef,
    ).toEqual({ name: 'plant-gridstream', key: 'pg-password', optional: true });
  });

  it("mounts the PostgreSQL server's CA from its Secret for verify-full", () => {
    const env = podEnv(full, 'timescale-writer');
    expect(env).toMatchObject({
      PG_HOST: 'timescale.databases',
      PG_PORT: '5433',
      PG_DATABASE: 'plant',
      PG_USER: 'gridstream_writer',
      PG_SSL: 'verify-full',
      PG_SCHEMA: 'telemetry',
      PG_SSL_CA_FILE: '/etc/gridstream-pg/ca/ca.crt',
      PG_PASSWORD: 'placeholder-pg-password',
    });
    const pod = full.find<Workload>('Deployment', deploymentName('timescale-writer')).spec.template.spec;
    const mount = pod.containers[0]!.volumeMounts?.find((m) => m.mountPath === '/etc/gridstream-pg/ca');
    expect(mount?.readOnly).toBe(true);
    expect(pod.volumes?.find((v) => v.name === mount?.name)?.secret?.secretName).toBe('timescale-ca');
    // Nobody else gets the PostgreSQL settings or its CA.
    for (const other of ['influx-writer', 'opentsdb-writer']) {
      expect(
        Object.keys(podEnv(full, other)).filter((k) => k.startsWith('PG_')),
        other,
      ).toEqual([]);
      expect(
        container(full, other).volumeMounts?.map((m) => m.mountPath),
        other,
      ).not.toContain('/etc/gridstream-pg/ca');
    }
  });

  it('gives the opentsdb-writer its URL, user name and (from the Secret) password', () => {
    expect(podEnv(full, 'opentsdb-writer')).toMatchObject({
      OPENTSDB_URL: 'https://opentsdb.example.com:4242',
      OPENTSDB_USERNAME: 'gridstream',
      OPENTSDB_PASSWORD: 'placeholder-opentsdb-password',
      WRITER_BATCH_SIZE: '50',
    });
    expect(
      container(existing, 'opentsdb-writer').env?.find((e) => e.name === 'OPENTSDB_PASSWORD')?.valueFrom
        ?.secretKeyRef,
    ).toEqual({ name: 'plant-gridstream', key: 'opentsdb-password', optional: true });
  });

  it('installs with a note when the timescale-writer has no PostgreSQL password', async () => {
    const install = (...set: string[]) =>
      helm(['install', RELEASE, chart, '--namespace', NAMESPACE, '--dry-run=client', ...set]);
    const without = await install('--set', 'services.timescale-writer.enabled=true');
    expect(without.code, without.stderr).toBe(0);
    expect(without.stdout).toContain(
      'NOTE: the timescale-writer connects to PostgreSQL (postgresql:5432) without',
    );
    const withPassword = await install(
      '--set',
      'services.timescale-writer.enabled=true',
      '--set',
      'secrets.pgPassword=x',
    );
    expect(withPassword.code, withPassword.stderr).toBe(0);
    expect(withPassword.stdout).not.toContain('NOTE: the timescale-writer');
  });
});

describe('the serial collector', () => {
  it('is off by default; on: one replica, replaced with Recreate, probed on 9112, polled by the console', async () => {
    expect(await healthPort('serial-collector')).toBe(9112);
    expect(defaults.objects.filter((o) => o.metadata.name.includes('serial-collector'))).toEqual([]);
    expect(podEnv(defaults, 'console').CONSOLE_SERVICES).not.toContain('serial-collector=');
    const d = full.find<Workload>('Deployment', deploymentName('serial-collector'));
    expect(d.spec.replicas).toBe(1);
    expect(d.spec.strategy?.type).toBe('Recreate');
    const c = container(full, 'serial-collector');
    expect(c.image).toBe('registry.example.com/gridstream/serial-collector:1.2.3');
    expect(c.ports).toEqual([{ name: 'metrics', containerPort: 9112, protocol: 'TCP' }]);
    expect(podEnv(full, 'console').CONSOLE_SERVICES!.split(',')).toContain(
      `serial-collector=http://${FULLNAME}-serial-collector-metrics:9112`,
    );
  });

  it("gets the node's serial adapter from a device plugin and opens it through its group, nothing privileged", () => {
    const d = full.find<Workload>('Deployment', deploymentName('serial-collector'));
    const pod = d.spec.template.spec as PodSpec & { nodeSelector?: Record<string, string> };
    const c = pod.containers[0]!;
    // The device plugin's extended resource: the kubelet adds the device node and its cgroup permission.
    expect(c.resources?.limits?.['squat.ai/serial']).toBe(1);
    // The service's own limits are kept beside it.
    expect(c.resources?.limits?.memory).toBe('512Mi');
    // uid 1000 in the device's group (dialout), on top of the chart's pod security context.
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      supplementalGroups: [20],
    });
    expect(c.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(c.securityContext?.privileged).toBeUndefined();
    // No hostPath: a bind-mounted /dev/tty* cannot be opened without `privileged`.
    expect(JSON.stringify(pod.volumes)).not.toContain('hostPath');
    expect(pod.nodeSelector).toEqual({ 'kubernetes.io/hostname': 'plant-edge-1' });
    // Nobody else gets the device or the group.
    for (const other of ['modbus-collector', 'mqtt-collector', 'parser']) {
      const o = full.find<Workload>('Deployment', deploymentName(other)).spec.template.spec;
      expect(o.securityContext?.supplementalGroups, other).toBeUndefined();
      expect(Object.keys(o.containers[0]!.resources?.limits ?? {}).sort(), other).toEqual(['cpu', 'memory']);
    }
  });

  it("reads the port file through the collector's own loader, and says so when no device is asked for", async () => {
    const env = podEnv(full, 'serial-collector', materializeMounts(full, 'serial-collector'));
    const schema = await serviceSchema('serial-collector');
    const config = loadConfig(schema as never, env) as { SERIAL_CONFIG: { ports: { path: string }[] } };
    expect(config.SERIAL_CONFIG.ports.map((p) => p.path)).toEqual(['/dev/ttyUSB0']);

    const install = (...set: string[]) =>
      helm(['install', RELEASE, chart, '--namespace', NAMESPACE, '--dry-run=client', ...set]);
    const on = [
      '--set',
      'services.serial-collector.enabled=true',
      '--set',
      'services.serial-collector.env.SERIAL_CONFIG=/etc/gridstream/serial.yaml',
    ];
    const without = await install(...on);
    expect(without.code, without.stderr).toBe(0);
    expect(without.stdout).toContain('NOTE: the serial-collector asks for no device');
    // The default values give the group already; with a device resource the note goes.
    expect(without.stdout).toMatch(/supplementalGroups:\n\s+- 20/);
    const withDevice = await install(
      ...on,
      '--set',
      'services.serial-collector.device.resources.smarter-devices/ttyUSB0=1',
    );
    expect(withDevice.code, withDevice.stderr).toBe(0);
    expect(withDevice.stdout).not.toContain('NOTE: the serial-collector');
    expect(withDevice.stdout).toMatch(/smarter-devices\/ttyUSB0: 1/);
  });
});

describe('the MQTT collector', () => {
  it('is off by default; on: one replica, replaced with Recreate, probed on 9113, polled by the console', async () => {
    expect(await healthPort('mqtt-collector')).toBe(9113);
    expect(defaults.objects.filter((o) => o.metadata.name.includes('mqtt-collector'))).toEqual([]);
    expect(podEnv(defaults, 'console').CONSOLE_SERVICES).not.toContain('mqtt-collector=');
    const d = full.find<Workload>('Deployment', deploymentName('mqtt-collector'));
    expect(d.spec.replicas).toBe(1);
    expect(d.spec.strategy?.type).toBe('Recreate');
    const c = container(full, 'mqtt-collector');
    expect(c.image).toBe('registry.example.com/gridstream/mqtt-collector:1.2.3');
    expect(c.ports).toEqual([{ name: 'metrics', containerPort: 9113, protocol: 'TCP' }]);
    expect(podEnv(full, 'console').CONSOLE_SERVICES!.split(',')).toContain(
      `mqtt-collector=http://${FULLNAME}-mqtt-collector-metrics:9113`,
    );
  });

  it('gives MQTT_PASSWORD from the Secret (or one made elsewhere), and to no other service', () => {
    expect(
      container(full, 'mqtt-collector').env?.find((e) => e.name === 'MQTT_PASSWORD')?.valueFrom?.secretKeyRef,
    ).toEqual({
      name: `${FULLNAME}-credentials`,
      key: 'mqtt-password',
      optional: true,
    });
    expect(podEnv(full, 'mqtt-collector').MQTT_PASSWORD).toBe('placeholder-mqtt-password');
    expect(
      container(existing, 'mqtt-collector').env?.find((e) => e.name === 'MQTT_PASSWORD')?.valueFrom
        ?.secretKeyRef,
    ).toEqual({ name: 'plant-gridstream', key: 'mqtt-password', optional: true });
    for (const other of ['serial-collector', 'opcua-collector', 'console'])
      expect(
        container(full, other).env?.map((e) => e.name),
        other,
      ).not.toContain('MQTT_PASSWORD');
  });

  it("mounts the brokers' TLS material where a broker file points, and the collector's loader accepts it", async () => {
    const pod = full.find<Workload>('Deployment', deploymentName('mqtt-collector')).spec.template.spec;
    const mounts = new Map((pod.containers[0]!.volumeMounts ?? []).map((m) => [m.mountPath, m] as const));
    for (const [path, secret] of [
      ['/etc/gridstream-mqtt/ca', 'plant-mqtt-ca'],
      ['/etc/gridstream-mqtt/client', 'gridstream-mqtt-tls'],
    ] as const) {
      expect(mounts.get(path)?.readOnly, path).toBe(true);
      expect(pod.volumes?.find((v) => v.name === mounts.get(path)?.name)?.secret?.secretName, path).toBe(
        secret,
      );
    }
    for (const other of ['serial-collector', 'opcua-collector'])
      expect(
        container(full, other).volumeMounts?.map((m) => m.mountPath),
        other,
      ).not.toContain('/etc/gridstream-mqtt/ca');

    // The broker file of values.yaml's example: mqtts://, the password from MQTT_PASSWORD, the CA and the
    // client certificate from the mounts. Read with the pod's environment and the files the pod would see.
    const brokers = [
      'brokers:',
      '  - name: plant1',
      '    url: mqtts://broker.plant1:8883',
      '    clientId: gridstream-plant1',
      '    username: gridstream',
      '    passwordEnv: MQTT_PASSWORD',
      '    tls:',
      '      caFile: /etc/gridstream-mqtt/ca/ca.crt',
      '      certFile: /etc/gridstream-mqtt/client/tls.crt',
      '      keyFile: /etc/gridstream-mqtt/client/tls.key',
      '    subscriptions: [{ topic: spBv1.0/plant1/#, format: sparkplug }]',
      '',
    ].join('\n');
    const r = await template([
      '-f',
      allFeatures,
      '--set-json',
      `services.mqtt-collector.files=${JSON.stringify({ 'mqtt/brokers.yaml': brokers })}`,
      '--set',
      'services.mqtt-collector.env.MQTT_CONFIG=/etc/gridstream/mqtt/brokers.yaml',
    ]);
    expectValid(r.objects);
    const materialized = materializeMounts(r, 'mqtt-collector');
    const env = podEnv(r, 'mqtt-collector', materialized);
    // The broker file names the pod's paths; in this test the mounts are folders of their own.
    const file = env.MQTT_CONFIG!;
    let text = readFileSync(file, 'utf8');
    for (const [from, to] of Object.entries(materialized)) text = text.replaceAll(`${from}/`, `${to}/`);
    writeFileSync(file, text);
    const config = loadConfig(makeMqttCollectorConfigSchema(env) as never, env) as {
      MQTT_CONFIG: { brokers: { name: string; password?: string }[] };
    };
    expect(config.MQTT_CONFIG.brokers.map((b) => [b.name, b.password])).toEqual([
      ['plant1', 'placeholder-mqtt-password'],
    ]);
    // Without the password in the Secret the collector names the variable it misses and stops.
    const { MQTT_PASSWORD: _, ...withoutPassword } = env;
    expect(() =>
      loadConfig(makeMqttCollectorConfigSchema(withoutPassword) as never, withoutPassword),
    ).toThrow(/MQTT_PASSWORD is not set/);
  });
});

describe('NOTES.txt', () => {
  it('says how to reach the console and read its password, and warns of replicas without partitions', async () => {
    const result = await helm([
      'install',
      RELEASE,
      chart,
      '--namespace',
      NAMESPACE,
      '--dry-run=client',
      '--set',
      'services.parser.replicas=8',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const notes = result.stdout.slice(result.stdout.indexOf('NOTES:'));
    expect(notes).toContain(`kubectl -n ${NAMESPACE} port-forward svc/${FULLNAME}-console 8080:8080`);
    expect(notes).toContain(`get secret ${FULLNAME}-credentials -o jsonpath='{.data.console-password}'`);
    expect(notes).toContain(
      'WARNING: services.parser.replicas is 8, above kafka.partitions (6): 2 replica(s) will get no partition.',
    );
    expect(notes).not.toContain('services.influx-writer.replicas');
  });
});
