import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent, type IncomingHttpHeaders, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@gridstream/config';
import { counter, deadLetter, ReliableProducer } from '@gridstream/kafka';
import { createMetricsRegistry, type HealthServer, Readiness, startHealthServer } from '@gridstream/runtime';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleConfigSchema } from '../services/console/src/config.js';
import { type RunningConsole, startConsole } from '../services/console/src/console-service.js';
import { OPENAPI_FILE } from '../services/console/src/routes/openapi.js';
import {
  createTestTopics,
  removeTestTopics,
  TEST_BROKERS,
  testKafka,
  testLogger,
  uniqueName,
  waitFor,
  writeSocArchiveFile,
} from './helpers.js';

/**
 * The console's JSON API against its OpenAPI document (services/console/public/openapi.json, served at
 * GET /api/openapi.json): the document is valid OpenAPI 3.1, every route under /api/ that Fastify has is in
 * it and everything in it is a route, and a real console on real Kafka (with a real archive for queries and
 * a real import job) answers every operation only with statuses the document lists, each body matching its
 * schema (Ajv, strict). Every documented answer must have been seen at least once, except the few listed in
 * NOT_PROVOKED with the reason, so a status added to the document without a test fails here too.
 */
const TOKEN = 'openapi-contract-token-0123456789';
const PASSWORD = 'openapi-contract-password';
const SITE = '000555';
const RATE_LIMIT = 1_000;
const ALARM = `${SITE}/battery/bank/3/rack_over_temperature`;
const CLEARED = `${SITE}/pcs/inverter//dc_over_voltage`;
const names = {
  raw: uniqueName('oa.raw'),
  parsed: uniqueName('oa.parsed'),
  dlq: uniqueName('oa.dlq'),
  replays: uniqueName('oa.replays'),
  alarms: uniqueName('oa.alarms'),
  actions: uniqueName('oa.actions'),
};
const kafka = testKafka();
let work: string;
let producer: ReliableProducer;
let health: HealthServer;
let running: RunningConsole;
let port: number;
let cookie: string;
const agent = new Agent({ keepAlive: true, maxSockets: 8 });

// ---------------------------------------------------------------------------------------------- the document

type Json = Record<string, unknown>;
const doc = JSON.parse(await readFile(OPENAPI_FILE, 'utf8')) as Json & {
  paths: Record<string, Record<string, Json>>;
  components: { responses: Record<string, Json>; schemas: Json; securitySchemes: Json };
};
const DOC_ID = 'urn:gridstream:console:openapi';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
/** `GET /api/alarms/history`, as Fastify and the document name an operation. */
const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
  Object.keys(item)
    .filter((m) => METHODS.includes(m))
    .map((m) => `${m.toUpperCase()} ${path}`),
);

// Schemas are compiled from where they sit in the document, so `$ref`s resolve as any OpenAPI tool does.
// Strict: an unknown keyword, a `required` property not in `properties` or a type mix-up is an error.
const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
formats.default(ajv);
ajv.addVocabulary(['openapi', 'info', 'jsonSchemaDialect', 'servers', 'paths', 'webhooks', 'components']);
ajv.addVocabulary(['security', 'tags', 'externalDocs']);
ajv.addSchema({ ...doc, $id: DOC_ID });

const pointer = (...parts: string[]) =>
  `${DOC_ID}#/${parts.map((p) => encodeURIComponent(p.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/')}`;
function validator(...parts: string[]) {
  const validate = ajv.getSchema(pointer(...parts));
  if (!validate) throw new Error(`no schema at ${parts.join(' ')}`);
  return validate;
}
function lookup(ref: string): Json {
  let at: unknown = doc;
  for (const part of ref.replace(/^#\//, '').split('/'))
    at = (at as Json)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  if (at === undefined) throw new Error(`${ref} does not resolve`);
  return at as Json;
}

// ---------------------------------------------------------------------------------------------- HTTP

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}
interface Call {
  query?: Record<string, string>;
  params?: Record<string, string>;
  /** JSON unless `raw` is given. */
  json?: unknown;
  raw?: { type: string; body: string | Buffer };
  /** `bearer` (the default), `session` (the login cookie; POSTs with the console's Origin), or none. */
  auth?: 'bearer' | 'session' | 'none' | { token: string };
  headers?: Record<string, string>;
  /** Source address (any of 127/8): the throttle and the rate limit count per address. */
  from?: string;
}

function send(method: string, path: string, options: Call = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  const auth = options.auth ?? 'bearer';
  if (auth === 'bearer') headers.authorization = `Bearer ${TOKEN}`;
  else if (typeof auth === 'object') headers.authorization = `Bearer ${auth.token}`;
  else if (auth === 'session') {
    headers.cookie = cookie;
    if (method !== 'GET') headers.origin ??= `http://127.0.0.1:${port}`;
  }
  let body: string | Buffer | undefined;
  if (options.raw) {
    headers['content-type'] = options.raw.type;
    body = options.raw.body;
  } else if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers,
        agent,
        ...(options.from ? { localAddress: options.from } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${path}: no answer in 60 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** (operation, status) pairs answered and checked. */
const seen = new Set<string>();

/**
 * Calls a documented operation (`POST /api/query`) and holds the answer to the document: the status must be
 * one it lists for the operation, the content type one it lists for that status, and the body must match
 * the schema. Returns the parsed body.
 */
async function call<T = Json>(
  operation: string,
  options: Call = {},
): Promise<{ status: number; body: T; answer: Answer }> {
  const [method, template] = operation.split(' ') as [string, string];
  const item = doc.paths[template]?.[method.toLowerCase()];
  expect(item, `${operation} is not in the document`).toBeDefined();
  let path = template.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(options.params?.[name] ?? ''),
  );
  if (options.query) path += `?${new URLSearchParams(options.query)}`;
  const answer = await send(method, path, options);
  return { status: answer.status, body: holdToDocument(operation, answer) as T, answer };
}

function holdToDocument(operation: string, answer: Answer): unknown {
  const [method, template] = operation.split(' ') as [string, string];
  const responses = doc.paths[template]![method.toLowerCase()]!.responses as Record<string, Json>;
  const documented = responses[String(answer.status)];
  expect(
    documented,
    `${operation} answered ${answer.status}, which the document does not list: ${answer.body.slice(0, 300)}`,
  ).toBeDefined();
  // A shared answer (components/responses) is checked against the schema where it is written.
  const at = typeof documented!.$ref === 'string' ? documented!.$ref.replace(/^#\//, '').split('/') : null;
  const response = at ? lookup(documented!.$ref as string) : documented!;
  const base = at ?? ['paths', template, method.toLowerCase(), 'responses', String(answer.status)];
  const type = String(answer.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim();
  const content = response.content as Record<string, Json>;
  expect(
    Object.keys(content),
    `${operation} ${answer.status} answered as ${type}: ${answer.body.slice(0, 200)}`,
  ).toContain(type);
  const body = type === 'application/json' ? JSON.parse(answer.body) : answer.body;
  const validate = validator(...base, 'content', type, 'schema');
  expect(
    validate(body),
    `${operation} ${answer.status} body: ${ajv.errorsText(validate.errors)}\n${answer.body.slice(0, 2_000)}`,
  ).toBe(true);
  if (type === 'text/event-stream') {
    // Each event's data is the schema the media type names in x-event-data.
    const dataSchema = validator(...base, 'content', type, 'x-event-data');
    for (const event of parseEvents(answer.body)) {
      expect(
        dataSchema(JSON.parse(event.data)),
        `${operation} event ${event.event}: ${ajv.errorsText(dataSchema.errors)}\n${event.data}`,
      ).toBe(true);
    }
  }
  seen.add(`${operation} ${answer.status}`);
  return body;
}

/** The request body a success was asked with must be what the document describes (no more, no less). */
function expectDocumentedBody(operation: string, body: unknown): void {
  const [method, template] = operation.split(' ') as [string, string];
  const validate = validator(
    'paths',
    template,
    method.toLowerCase(),
    'requestBody',
    'content',
    'application/json',
    'schema',
  );
  expect(validate(body), `${operation} request: ${ajv.errorsText(validate.errors)}`).toBe(true);
}

function parseEvents(stream: string): { event: string; data: string }[] {
  return stream
    .split('\n\n')
    .filter((block) => block.trim() !== '' && !block.startsWith(':'))
    .map((block) => {
      const lines = block.split('\n');
      return {
        event: lines.find((l) => l.startsWith('event: '))?.slice(7) ?? 'message',
        data: lines
          .filter((l) => l.startsWith('data: '))
          .map((l) => l.slice(6))
          .join('\n'),
      };
    });
}

/** Fastify's own routing table (printRoutes), as `METHOD /path/{param}`: what the console really serves. */
function registeredRoutes(app: RunningConsole['app']): string[] {
  const routes: string[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([│ ]*)(?:[└├]── )(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    stack.length = depth;
    stack.push(match[2]!);
    const path = stack.join('');
    for (const m of match[3]?.split(', ') ?? []) routes.push(`${m} ${path.replace(/:(\w+)/g, '{$1}')}`);
  }
  return routes;
}

// ---------------------------------------------------------------------------------------------- fixtures

const alarmEvent = (key: string, state: string, at: string, raisedAt = at) => {
  const [site, equipment, device, rack, rule] = key.split('/') as [string, string, string, string, string];
  return {
    key,
    value: JSON.stringify({
      v: 1,
      id: `${key}@${raisedAt}`,
      site,
      equipment,
      device,
      ...(rack === '' ? {} : { rack }),
      rule,
      field: 'max_cell_temperature',
      state,
      level: 'warning',
      value: state === 'cleared' ? 45 : 52.5,
      threshold: state === 'cleared' ? 48 : 50,
      raisedAt,
      ts: at,
      message: `${rule} ${state}`,
    }),
  };
};

async function login(): Promise<string> {
  const answer = await send('POST', '/login', {
    auth: 'none',
    raw: {
      type: 'application/x-www-form-urlencoded',
      body: `password=${encodeURIComponent(PASSWORD)}&operator=Kim&next=%2Fpipeline`,
    },
    headers: { origin: `http://127.0.0.1:${port}` },
  });
  expect(answer.status).toBe(303);
  return String(answer.headers['set-cookie']).split(';')[0]!;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'gs-console-openapi-'));
  await createTestTopics(kafka, [names.parsed]);
  producer = new ReliableProducer(kafka, testLogger());
  await producer.connect();

  // One "service" for the pipeline's poll: a real health server with a readiness check and a counter.
  const readiness = new Readiness();
  readiness.add('consumer', () => ({ ok: true, detail: 'consuming' }));
  readiness.state = 'running';
  const serviceMetrics = createMetricsRegistry('parser');
  counter(serviceMetrics, 'gridstream_parser_messages_total', 'messages').inc(5);
  health = await startHealthServer({
    host: '127.0.0.1',
    port: 0,
    readiness,
    metrics: serviceMetrics,
    logger: testLogger(),
  });

  // A small archive for the query API (the archiver's own Parquet writer) and a CSV in the import folder.
  const archiveDir = join(work, 'archive');
  await mkdir(join(archiveDir, 'dt=2026-01-01'), { recursive: true });
  await writeSocArchiveFile(
    join(
      archiveDir,
      'dt=2026-01-01',
      `${names.parsed}+0+${'0'.padStart(20, '0')}+${'4'.padStart(20, '0')}.parquet`,
    ),
    { site: SITE, count: 5 },
  );
  const imports = join(work, 'imports');
  await mkdir(imports, { recursive: true });
  const lines = ['time,meter,voltage,current'];
  for (let r = 0; r < 10; r++) lines.push(`2026-02-01 00:00:0${r},m${r % 2},${230 + r / 10},${r}`);
  lines.push('not a time,m1,231,5');
  await writeFile(join(imports, 'meters.csv'), `${lines.join('\n')}\n`);

  const config = loadConfig(consoleConfigSchema, {
    KAFKA_BROKERS: TEST_BROKERS.join(','),
    KAFKA_TOPIC_RAW: names.raw,
    KAFKA_TOPIC_PARSED: names.parsed,
    KAFKA_TOPIC_DLQ: names.dlq,
    KAFKA_TOPIC_DLQ_REPLAYS: names.replays,
    KAFKA_TOPIC_ALARMS: names.alarms,
    KAFKA_TOPIC_ALARM_ACTIONS: names.actions,
    KAFKA_TOPIC_PARTITIONS: '2',
    PARSER_GROUP_ID: uniqueName('oa-parser'),
    WRITER_GROUP_ID: uniqueName('oa-writer'),
    ARCHIVER_GROUP_ID: uniqueName('oa-archiver'),
    HEALTH_PORT: '0',
    CONSOLE_PORT: '0',
    CONSOLE_TOKEN: TOKEN,
    CONSOLE_PASSWORD: PASSWORD,
    CONSOLE_POLL_INTERVAL_MS: '1000',
    CONSOLE_RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT),
    CONSOLE_QUERY_TIMEOUT_MS: '4000',
    CONSOLE_IMPORT_DIR: imports,
    CONSOLE_SERVICES: `parser=${health.url},archiver=http://127.0.0.1:9`,
    ARCHIVE_DIR: archiveDir,
    ARCHIVE_CACHE_DIR: join(work, 'cache'),
  });
  running = await startConsole({
    config,
    logger: testLogger().child({ service: 'console' }),
    metrics: createMetricsRegistry('console'),
    readiness: new Readiness(),
  });
  port = Number(new URL(running.url).port);
  cookie = await login();

  const raisedAt = '2026-03-01T02:00:00.000Z';
  await producer.send(names.alarms, [
    alarmEvent(ALARM, 'raised', raisedAt),
    alarmEvent(CLEARED, 'raised', raisedAt),
    alarmEvent(CLEARED, 'cleared', '2026-03-01T02:05:00.000Z', raisedAt),
  ]);
  const samples = JSON.stringify({
    v: 1,
    samples: [{ site: SITE, equipment: 'feed', device: 'm', ts: raisedAt }],
  });
  await producer.send(names.dlq, [
    deadLetter({
      stage: 'parser',
      reason: 'invalid_record',
      problems: [{ reason: 'invalid_record', path: 'samples[0].fields', message: 'Required' }],
      payload: Buffer.from(samples),
      key: SITE,
      headers: { 'gs-schema': 'samples.v1', 'gs-source': 'test://openapi' },
      source: { topic: names.raw, partition: 0, offset: '7' },
    }),
    deadLetter({
      stage: 'parser',
      reason: 'oversized',
      payload: Buffer.alloc(4_096, 'x'),
      maxPayloadBytes: 1_024,
    }),
    deadLetter({ stage: 'influx-writer', reason: 'sink_rejected', payload: Buffer.from('{"v":1}') }),
  ]);
}, 120_000);

afterAll(async () => {
  await running?.stop();
  await health?.close();
  await producer?.disconnect();
  agent.destroy();
  await removeTestTopics(kafka, Object.values(names));
  await rm(work, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------- tests

describe('the console API against its OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document whose references all resolve and whose schemas compile strictly', async () => {
    const validator31 = new Validator();
    const result = await validator31.validate(structuredClone(doc));
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 2)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator31.version).toBe('3.1');

    const refs: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node !== null && typeof node === 'object')
        for (const [k, v] of Object.entries(node)) k === '$ref' ? refs.push(v as string) : walk(v);
    };
    walk(doc);
    expect(refs.length).toBeGreaterThan(20);
    for (const ref of refs) expect(() => lookup(ref), ref).not.toThrow();

    // Every schema, named or written in place, compiles under Ajv's strict mode.
    for (const name of Object.keys(doc.components.schemas))
      expect(() => validator('components', 'schemas', name), name).not.toThrow();
    for (const operation of operations) {
      const [method, path] = operation.split(' ') as [string, string];
      const op = doc.paths[path]![method.toLowerCase()]!;
      expect(op.operationId, operation).toEqual(expect.any(String));
      const at = ['paths', path, method.toLowerCase()];
      for (const [status, response] of Object.entries(op.responses as Record<string, Json>)) {
        const shared = typeof response.$ref === 'string';
        const resolved = shared ? lookup(response.$ref as string) : response;
        const where = shared
          ? (response.$ref as string).replace(/^#\//, '').split('/')
          : [...at, 'responses', status];
        const types = Object.keys(resolved.content as Json);
        expect(types.length, `${operation} ${status}`).toBeGreaterThan(0);
        for (const type of types)
          expect(
            () => validator(...where, 'content', type, 'schema'),
            `${operation} ${status}`,
          ).not.toThrow();
      }
      for (const type of Object.keys((op.requestBody as { content?: Json } | undefined)?.content ?? {}))
        expect(() => validator(...at, 'requestBody', 'content', type, 'schema')).not.toThrow();
      for (const [i, parameter] of ((op.parameters ?? []) as Json[]).entries()) {
        const resolved = typeof parameter.$ref === 'string' ? lookup(parameter.$ref) : parameter;
        expect(resolved.schema, `${operation} parameter ${i}`).toBeDefined();
        const where =
          typeof parameter.$ref === 'string'
            ? parameter.$ref.replace(/^#\//, '').split('/')
            : [...at, 'parameters', String(i)];
        expect(() => validator(...where, 'schema'), `${operation} parameter ${i}`).not.toThrow();
      }
    }
    // Both ways in: the session cookie and the token, for every operation (none overrides it).
    expect(doc.security).toEqual([{ session: [] }, { bearer: [] }]);
    expect(doc.components.securitySchemes).toMatchObject({
      session: { type: 'apiKey', in: 'cookie', name: 'gs_console' },
      bearer: { type: 'http', scheme: 'bearer' },
    });
    for (const operation of operations) {
      const [method, path] = operation.split(' ') as [string, string];
      expect(doc.paths[path]![method.toLowerCase()]!.security, operation).toBeUndefined();
    }
  });

  it('documents every /api/ route the console has, and has nothing else', () => {
    const routes = registeredRoutes(running.app);
    expect(routes).toContain('GET /pipeline'); // the parse of Fastify's table works at all
    const api = routes.filter((r) => r.split(' ')[1]!.startsWith('/api/'));
    // Fastify answers HEAD for every GET by itself; the document says so once instead of per path.
    const heads = api.filter((r) => r.startsWith('HEAD '));
    for (const head of heads) expect(api, head).toContain(head.replace(/^HEAD /, 'GET '));
    expect(api.filter((r) => !r.startsWith('HEAD ')).sort()).toEqual([...operations].sort());
    for (const operation of operations) {
      const [method, path] = operation.split(' ') as [string, string];
      const url = path.replace(/\{(\w+)\}/g, ':$1');
      expect(running.app.hasRoute({ method: method as 'GET', url }), operation).toBe(true);
    }
  });

  it('is what the API table of docs/console.md lists', async () => {
    const guide = await readFile(join(import.meta.dirname, '..', 'docs', 'console.md'), 'utf8');
    const section = guide.split(/^## /m).find((s) => s.startsWith('API\n')) ?? '';
    expect(section).toContain('`GET /api/openapi.json`');
    const rows = [...section.matchAll(/^\| `([A-Z]+) (\/api\/[^`?\s]*)/gm)].map(
      ([, method, path]) => `${method} ${path!.replace(/<(\w+)>/g, '{$1}')}`,
    );
    expect(rows.sort()).toEqual([...operations].sort());
  });

  it('serves the document itself, behind the same authentication', async () => {
    for (const auth of ['bearer', 'session'] as const) {
      const { status, body } = await call('GET /api/openapi.json', { auth });
      expect(status).toBe(200);
      expect(body).toEqual(doc);
    }
  });

  it('pipeline: the latest poll and the hour of history', async () => {
    // After two polls of the health server the rates are numbers, the lag and the DLQ size are known.
    const pipeline = await waitFor(
      () =>
        call<{
          services: { name: string; inRate: number | null }[];
          dlq: { size: number | null };
          alarms: { active: number };
        }>('GET /api/pipeline'),
      (r) =>
        r.body.services.find((s) => s.name === 'parser')?.inRate !== null &&
        r.body.dlq.size === 3 &&
        r.body.alarms.active === 1,
      { timeoutMs: 30_000, what: 'two polls of the pipeline' },
    );
    expect(pipeline.status).toBe(200);
    expect(pipeline.body).toMatchObject({
      services: [
        { name: 'parser', up: true, ready: true, state: 'running', checks: { consumer: { ok: true } } },
        { name: 'archiver', up: false, ready: false },
      ],
      alarms: { active: 1 },
    });
    const { status, body } = await call<{ points: unknown[] }>('GET /api/pipeline/history', {
      auth: 'session',
    });
    expect(status).toBe(200);
    expect(body.points.length).toBeGreaterThanOrEqual(2);
    expect((await call('GET /api/pipeline', { auth: 'session' })).status).toBe(200);
  });

  it('dead letters: pages with a cursor, replay with refusals, and the bad requests', async () => {
    const first = await call<{
      total: number;
      next: string | null;
      items: { partition: number; offset: string; stage: string; truncated: boolean }[];
    }>('GET /api/dead-letters', { query: { size: '2' } });
    expect(first.status).toBe(200);
    expect(first.body.total).toBe(3);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.next).toEqual(expect.any(String));
    const rest = await call<typeof first.body>('GET /api/dead-letters', {
      query: { size: '2', before: first.body.next! },
      auth: 'session',
    });
    expect(rest.status).toBe(200);
    expect(rest.body.items).toHaveLength(1);
    expect(rest.body.next).toBeNull();
    const letters = [...first.body.items, ...rest.body.items];
    const id = (l: (typeof letters)[number]) => `${l.partition}/${l.offset}`;
    const replayable = letters.find((l) => l.stage === 'parser' && !l.truncated)!;
    const truncated = letters.find((l) => l.truncated)!;
    const sink = letters.find((l) => l.stage === 'influx-writer')!;

    const request = { ids: [id(replayable), id(truncated), id(sink)] };
    expectDocumentedBody('POST /api/dead-letters/replay', request);
    const replay = await call<{ replayed: string[]; refused: { id: string }[] }>(
      'POST /api/dead-letters/replay',
      {
        json: request,
      },
    );
    expect(replay.status).toBe(200);
    expect(replay.body.replayed).toEqual([id(replayable)]);
    expect(replay.body.refused.map((r) => r.id).sort()).toEqual([id(truncated), id(sink)].sort());
    // The replayed letter now carries its mark.
    const marked = await call<{ items: { replayed?: unknown }[] }>('GET /api/dead-letters', {
      query: { size: '500' },
    });
    expect(marked.body.items.filter((l) => l.replayed !== undefined)).toHaveLength(1);
    const bySession = await call('POST /api/dead-letters/replay', {
      json: { ids: [id(sink)] },
      auth: 'session',
    });
    expect(bySession.status).toBe(200);

    for (const json of [
      {},
      { ids: [] },
      { ids: ['0/x'] },
      { ids: Array.from({ length: 1_001 }, (_, i) => `0/${i}`) },
    ]) {
      const { status } = await call('POST /api/dead-letters/replay', { json });
      expect(status, JSON.stringify(json).slice(0, 80)).toBe(400);
    }
  });

  it('alarms: the board, one history, and every action with its refusals', async () => {
    await waitFor(
      () => call<{ active: unknown[] }>('GET /api/alarms'),
      (r) => r.body.active.length === 1,
      { timeoutMs: 30_000, what: 'the raised alarm' },
    );
    const act = async (json: Json, status: number, auth: Call['auth'] = 'bearer') => {
      if (status === 201) expectDocumentedBody('POST /api/alarms/actions', json);
      const answer = await call<Json>('POST /api/alarms/actions', { json, auth });
      expect(answer.status, `${JSON.stringify(json)}: ${answer.answer.body}`).toBe(status);
      return answer.body;
    };
    expect(
      await act({ key: ALARM, action: 'acknowledged', comment: 'seen', by: 'shift-tool' }, 201),
    ).toMatchObject({
      action: 'acknowledged',
      by: 'shift-tool',
      level: 'warning',
    });
    await act({ key: ALARM, action: 'acknowledged' }, 409);
    await act({ key: CLEARED, action: 'acknowledged' }, 409);
    await act({ key: ALARM, action: 'silenced' }, 400);
    await act({ key: ALARM, action: 'commented', comment: 'x', by: 'bad\nname' }, 400);
    await act({ key: ALARM, action: 'shelved', minutes: 30 }, 400);
    await act({ key: ALARM, action: 'shelved', minutes: 0, comment: 'why' }, 400);
    await act({ key: `${SITE}/no/such//alarm`, action: 'commented', comment: 'hello' }, 404);
    expect(
      await act({ key: ALARM, action: 'shelved', minutes: 30, comment: 'maintenance' }, 201),
    ).toMatchObject({
      shelvedUntil: expect.any(String),
    });
    const board = await call<{
      active: unknown[];
      shelved: { key: string; shelved: unknown; acknowledged: unknown }[];
    }>('GET /api/alarms', { auth: 'session' });
    expect(board.status).toBe(200);
    expect(board.body.active).toEqual([]);
    expect(board.body.shelved).toMatchObject([
      { key: ALARM, shelved: { by: 'api', comment: 'maintenance' } },
    ]);
    await act({ key: ALARM, action: 'unshelved' }, 201);
    await act({ key: ALARM, action: 'unshelved' }, 409);
    await act({ key: ALARM, action: 'commented', comment: '  ' }, 400);
    expect(
      await act({ key: ALARM, action: 'commented', comment: 'handed over' }, 201, 'session'),
    ).toMatchObject({
      by: 'Kim',
    });

    const history = await call<{ events: unknown[]; actions: unknown[] }>('GET /api/alarms/history', {
      query: { key: ALARM },
    });
    expect(history.status).toBe(200);
    expect(history.body.actions).toHaveLength(4);
    const cleared = await call<{ latest: { state: string } }>('GET /api/alarms/history', {
      query: { key: CLEARED },
      auth: 'session',
    });
    expect(cleared.body.latest.state).toBe('cleared');
    expect((await call('GET /api/alarms/history', { query: { key: `${SITE}/nothing` } })).status).toBe(404);
    expect((await call('GET /api/alarms/history')).status).toBe(404);
  });

  it('query: a result from the archive, refusals, failures, and 429 past two running queries', async () => {
    const request = {
      sql: 'SELECT ts, site, value FROM telemetry ORDER BY ts LIMIT 3',
      engine: 'duckdb',
    };
    expectDocumentedBody('POST /api/query', request);
    const ok = await call<{ rows: unknown[][]; files: number }>('POST /api/query', { json: request });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      engine: 'duckdb',
      columns: ['ts', 'site', 'value'],
      cut: false,
      files: 1,
    });
    expect(ok.body.rows).toHaveLength(3);
    expect(
      (await call('POST /api/query', { json: { sql: 'SELECT 1 AS one' }, auth: 'session' })).status,
    ).toBe(200);
    for (const json of [
      {},
      { sql: '  ' },
      { sql: "COPY telemetry TO '/tmp/x.csv'" },
      { sql: 'SELECT FROM WHERE' },
    ]) {
      const { status } = await call('POST /api/query', { json });
      expect(status, JSON.stringify(json)).toBe(400);
    }

    // Two queries that run until CONSOLE_QUERY_TIMEOUT_MS stops them (400), and a third meanwhile: 429.
    const slow = { sql: 'SELECT sum(range % 7) AS s FROM range(1000000000000)' };
    const long = [call('POST /api/query', { json: slow }), call('POST /api/query', { json: slow })];
    let third: number | undefined;
    for (let tries = 0; tries < 30 && third !== 429; tries++) {
      await new Promise((r) => setTimeout(r, 100));
      third = (await call('POST /api/query', { json: { sql: 'SELECT 1' } })).status;
    }
    expect(third).toBe(429);
    expect((await Promise.all(long)).map((a) => a.status)).toEqual([400, 400]);
  });

  it('import: a job started from the import page, as JSON and as server-sent events', async () => {
    const form = new URLSearchParams({
      name: 'meters.csv',
      action: 'run',
      timeColumn: 'time',
      timeFormat: 'YYYY-MM-DD HH:mm:ss',
      timeZone: 'UTC',
      valueColumns: 'voltage|current',
      deviceColumn: 'meter',
      site: SITE,
      equipment: 'meters',
    });
    const started = await send('POST', '/import/file', {
      raw: { type: 'application/x-www-form-urlencoded', body: form.toString() },
    });
    expect(started.status, started.body).toBe(303);
    const jobId = /^\/import\/jobs\/([0-9a-f]+)$/.exec(String(started.headers.location))![1]!;
    // Events from the start (a `progress` while it runs, if it still does) to the `end`, and the stream ends.
    const events = await call<string>('GET /api/import/jobs/{id}/events', { params: { id: jobId } });
    expect(events.status).toBe(200);
    expect(parseEvents(events.body).at(-1)?.event).toBe('end');
    const job = await call<{ state: string; summary: { rowsSent: number; rejects: unknown[] } }>(
      'GET /api/import/jobs/{id}',
      { params: { id: jobId }, auth: 'session' },
    );
    expect(job.status).toBe(200);
    expect(job.body).toMatchObject({
      state: 'done',
      summary: { rowsSent: 10, rejects: [{ reason: 'bad_time' }] },
    });
    const again = await call<string>('GET /api/import/jobs/{id}/events', {
      params: { id: jobId },
      auth: 'session',
    });
    expect(parseEvents(again.body).map((e) => e.event)).toEqual(['end']);
    for (const operation of ['GET /api/import/jobs/{id}', 'GET /api/import/jobs/{id}/events'])
      expect((await call(operation, { params: { id: '0123456789abcdef' } })).status).toBe(404);
  });

  it('answers every operation with the documented refusals of the hooks: 401, 403, 421, 413, 415, 400, 429', async () => {
    const placeholder = { id: '0123456789abcdef' };
    const isPost = (operation: string) => operation.startsWith('POST ');
    for (const [i, operation] of operations.entries()) {
      const options = { params: placeholder };
      // Without credentials (a POST with the console's own Origin, else the CSRF check answers first).
      const own: Record<string, string> = isPost(operation) ? { origin: `http://127.0.0.1:${port}` } : {};
      expect((await call(operation, { ...options, auth: 'none', headers: own })).status, operation).toBe(401);
      if (isPost(operation))
        expect((await call(operation, { ...options, auth: 'none' })).status, operation).toBe(403);
      // A wrong token counts against the address: each operation from an address of its own.
      const wrong = await call(operation, {
        ...options,
        auth: { token: 'wrong-token' },
        from: `127.0.2.${i + 1}`,
      });
      expect(wrong.status, operation).toBe(401);
      const host = await call(operation, { ...options, headers: { host: 'console.example.org' } });
      expect(host.status, operation).toBe(421);
      if (!isPost(operation)) continue;
      const foreign = await call(operation, {
        ...options,
        auth: 'session',
        headers: { origin: 'https://example.org' },
      });
      expect(foreign.status, operation).toBe(403);
      const xml = await call(operation, { ...options, raw: { type: 'application/xml', body: '<sql/>' } });
      expect(xml.status, operation).toBe(415);
      const broken = await call(operation, {
        ...options,
        raw: { type: 'application/json', body: '{"ids": [' },
      });
      expect(broken.status, operation).toBe(400);
      const huge = await call(operation, {
        ...options,
        raw: { type: 'application/json', body: Buffer.alloc(16 * 1024 * 1024 + 1, ' ') },
      });
      expect(huge.status, operation).toBe(413);
    }

    // Ten wrong tokens block an address, the right token included.
    const blocked = '127.0.0.4';
    for (let n = 0; n < 10; n++)
      expect((await send('GET', '/api/alarms', { auth: { token: 'guess' }, from: blocked })).status).toBe(
        401,
      );
    for (const operation of operations) {
      const { status, body } = await call<Json>(operation, { params: placeholder, from: blocked });
      expect(status, operation).toBe(429);
      expect(body.error).toMatch(/too many failed attempts/);
    }

    // The request ceiling per address and minute, counted before anything else.
    const flooding = '127.0.0.5';
    for (let n = 0; n < RATE_LIMIT; n += 50)
      await Promise.all(
        Array.from({ length: 50 }, () => send('GET', '/api/nothing', { auth: 'none', from: flooding })),
      );
    for (const operation of operations) {
      const { status, body, answer } = await call<Json>(operation, { params: placeholder, from: flooding });
      expect(status, operation).toBe(429);
      expect(body.error).toMatch(/^Too many requests/);
      expect(answer.headers['retry-after'], operation).toBeDefined();
    }
  });

  it('answers 503 for the dead letters when the DLQ cannot be read', async () => {
    await removeTestTopics(kafka, [names.dlq]);
    const page = await call('GET /api/dead-letters');
    expect(page.status).toBe(503);
    const replay = await call('POST /api/dead-letters/replay', { json: { ids: ['0/0'] } });
    expect(replay.status).toBe(503);
    // The pipeline page says so too, with the DLQ size unknown.
    const pipeline = await waitFor(
      () => call<{ dlq: { size: number | null; error?: string } }>('GET /api/pipeline'),
      (r) => r.body.dlq.size === null,
      { timeoutMs: 60_000, what: 'the DLQ size unknown' },
    );
    expect(pipeline.body.dlq.error).toEqual(expect.any(String));
  });

  it('has seen every documented answer of every operation (except what cannot be provoked from outside)', () => {
    /** Statuses a test cannot cause without breaking the console's code, with the reason. */
    const NOT_PROVOKED: Record<string, string> = Object.fromEntries(
      operations.map((operation) => [`${operation} 500`, 'an unexpected exception in the handler']),
    );
    const documented = operations.flatMap((operation) => {
      const [method, path] = operation.split(' ') as [string, string];
      return Object.keys(doc.paths[path]![method.toLowerCase()]!.responses as Json).map(
        (s) => `${operation} ${s}`,
      );
    });
    const missing = documented.filter((answer) => !seen.has(answer) && NOT_PROVOKED[answer] === undefined);
    expect(missing).toEqual([]);
    // And the exceptions are still documented answers (a stale exception would hide nothing, but say so).
    for (const answer of Object.keys(NOT_PROVOKED)) expect(documented).toContain(answer);
  });
});
