import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AmqpPublisher, amqpConfigFromEnv, amqpEnvSchema } from '@gridstream/amqp';
import { createObjectStore } from '@gridstream/archive';
import { countPoints, createTestDatabase, influxConfig, type TestDatabase } from '@gridstream/influx';
import { consumerLag, ReliableProducer } from '@gridstream/kafka';
import { parseRaw } from '@gridstream/parsing';
import { RAW_HEADER } from '@gridstream/schema';
import { freePort, REPO_ROOT } from '@gridstream/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiverConfigSchema } from '../services/archiver/src/config.js';
import {
  createMicrogridSite,
  expectedRecordCount,
  REFERENCE_SITE_SHAPE,
} from '../services/simulator/src/microgrid-generator.js';
import { MOTO_URL, readParquetWithPyarrow, requireMoto, useMotoCredentials } from './archive-helpers.js';
import {
  createTestTopics,
  readTopic,
  removeTestTopics,
  sleep,
  TEST_AMQP_URL,
  TEST_BROKERS,
  TEST_INFLUX_URL,
  testKafka,
  testLogger,
  uniqueName,
  waitFor,
} from './helpers.js';

/**
 * The service images as an operator runs them. deploy/local/podman.sh builds every one from
 * deploy/docker/Dockerfile (on a Debian base it makes itself: no registry image can be pulled here), then
 * bridge, parser, influx-writer, archiver and console run as containers on the host's network against the
 * local Kafka, RabbitMQ, InfluxDB and moto, each on topics, a queue, a consumer group, a database and a
 * bucket of their own. Raw messages go in through Kafka and through RabbitMQ (the bridge); what must come
 * out is exact: every record once as a point in InfluxDB, every value once as a row in the Parquet archive
 * (read by pyarrow, and by the console container's own DuckDB). Each container runs as the image's
 * non-root user on a read-only root filesystem (a tmpfs at /app/.local, the one writable place the image
 * provides), with every capability dropped, and answers /healthz/ready; SIGTERM stops it with exit code 0.
 *
 * Podman missing is a failure, not a skip: `make infra-test` installs it (deploy/local/infra.sh PEERS).
 */
const run = promisify(execFile);
const PODMAN_SH = join(REPO_ROOT, 'deploy', 'local', 'podman.sh');
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts', 'images');
/** Every image the Dockerfile builds (its svc-<name> stages, as deploy/local/podman.sh reads them). */
let IMAGES: string[] = [];
const RUNNING = ['bridge', 'parser', 'influx-writer', 'archiver', 'console'] as const;
type Running = (typeof RUNNING)[number];

const SITES = ['000091', '000092', '000093'];
const KAFKA_PER_SITE = 100; // straight onto the raw topic
const AMQP_PER_SITE = 20; // through RabbitMQ and the bridge container
const MESSAGES = SITES.length * (KAFKA_PER_SITE + AMQP_PER_SITE); // 360
const RECORDS_PER_MESSAGE = expectedRecordCount(REFERENCE_SITE_SHAPE); // 17
const START = Date.UTC(2026, 6, 1, 3, 0, 0);
const CONSOLE_TOKEN = `images-test-${uniqueName('token')}`;

const logger = testLogger();
const kafka = testKafka(logger);
const id = uniqueName('gs-images');
const names = {
  raw: `${id}.raw`,
  parsed: `${id}.parsed`,
  dlq: `${id}.dlq`,
  alarms: `${id}.alarms`,
  replays: `${id}.replays`,
  exchange: `${id}.microgrid`,
  queue: `${id}.queue`,
  parserGroup: `${id}-parser`,
  writerGroup: `${id}-writer`,
  archiverGroup: `${id}-archiver`,
  bucket: id.toLowerCase(),
};
const container = (service: Running) => `${id}-${service}`;
const healthPorts = {} as Record<Running, number>;
let consolePort = 0;
let db: TestDatabase;
let scratch: string;
const started: Running[] = [];
const sent: { key: string; value: Buffer }[] = [];
/** Values (fields and flags) of every record of what was sent: the archive's rows. */
let expectedRows = 0;

/** podman with the project's settings (its own store and config, runc, cgroupfs): `podman.sh podman …`. */
async function podman(args: string[], timeout = 120_000): Promise<{ stdout: string; stderr: string }> {
  return run(PODMAN_SH, ['podman', ...args], { timeout, maxBuffer: 64 * 1024 * 1024 });
}

/** Exit code and output of a command that is expected to fail sometimes. */
async function podmanStatus(args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await podman(args);
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

const imageOf = (service: string) =>
  `localhost/gridstream/${service}:${process.env.GRIDSTREAM_TAG ?? 'local'}`;

/** What the image says it runs as, and its HEALTHCHECK (podman keeps it beside the OCI config). */
async function imageConfig(service: string): Promise<{ user: string; healthcheck: string[] | undefined }> {
  // (`podman image inspect` leaves the health check out of its full JSON; the template reaches it.)
  const { stdout } = await podman([
    'image',
    'inspect',
    '--format',
    '{{json .Config.User}} {{json .HealthCheck}}',
    imageOf(service),
  ]);
  const out = stdout.trim();
  const space = out.indexOf(' ');
  return {
    user: JSON.parse(out.slice(0, space)) as string,
    healthcheck: (JSON.parse(out.slice(space + 1)) as { Test?: string[] } | null)?.Test,
  };
}

async function ready(port: number): Promise<number> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz/ready`, { signal: AbortSignal.timeout(5_000) });
    return res.status;
  } catch {
    return 0;
  }
}

async function startContainer(service: Running, env: Record<string, string>): Promise<void> {
  const { user } = await imageConfig(service);
  const envArgs = Object.entries({
    // Loopback: on the host's network 0.0.0.0 (the image's default) would publish the port to the LAN.
    HEALTH_HOST: '127.0.0.1',
    HEALTH_PORT: String(healthPorts[service]),
    LOG_LEVEL: 'info',
    KAFKA_BROKERS: TEST_BROKERS.join(','),
    KAFKA_CLIENT_ID: `${id}-${service}`,
    ...env,
  }).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  started.push(service); // before `run`: a container created but not started is removed too
  await podman([
    'run',
    '--detach',
    '--name',
    container(service),
    '--label',
    'gridstream.test=images',
    '--network',
    'host',
    '--read-only',
    // The image's one writable folder (state, spools, caches), owned by its user like in the image
    // (`U`: podman's chown to the container's user; Docker spells it uid=1000,gid=1000).
    '--tmpfs',
    '/app/.local:rw,size=256m,U',
    '--user',
    user,
    '--cap-drop',
    'ALL',
    '--security-opt',
    'no-new-privileges',
    ...envArgs,
    imageOf(service),
  ]);
}

beforeAll(async () => {
  const { stdout: found } = await run('bash', ['-c', 'command -v podman || true']);
  if (found.trim() === '') {
    throw new Error(
      'podman is not installed: run `make infra-test` (or deploy/local/podman.sh install); this test does not skip',
    );
  }
  IMAGES = (await run(PODMAN_SH, ['services'])).stdout.trim().split('\n');
  expect(IMAGES).toEqual(expect.arrayContaining([...RUNNING, 'cli']));
  useMotoCredentials();
  await requireMoto();
  scratch = await mkdtemp(join(tmpdir(), 'gs-images-'));
  mkdirSync(ARTIFACTS, { recursive: true });

  // Builds what changed (layer cache); the base image only when its recipe did. GS_IMAGES_NO_BUILD=1 runs
  // the images already built, as they are (for working on this test while the tree does not build).
  if (process.env.GS_IMAGES_NO_BUILD !== '1') {
    const t0 = Date.now();
    const built = await run(PODMAN_SH, ['build', ...IMAGES], {
      timeout: 15 * 60_000,
      maxBuffer: 16 * 1024 * 1024,
    }).catch((error: { stderr?: string; message: string }) => {
      throw new Error(`deploy/local/podman.sh build failed:\n${error.stderr ?? error.message}`);
    });
    writeFileSync(join(ARTIFACTS, 'build.log'), built.stderr);
    console.info(`images built in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }

  await createTestTopics(kafka, [names.raw, names.parsed, names.dlq, names.alarms], 3);
  db = await createTestDatabase(influxConfig({ url: TEST_INFLUX_URL }), 'gs_images');
  for (const service of RUNNING) healthPorts[service] = await freePort();
  consolePort = await freePort();

  const topics = {
    KAFKA_TOPIC_RAW: names.raw,
    KAFKA_TOPIC_PARSED: names.parsed,
    KAFKA_TOPIC_DLQ: names.dlq,
    KAFKA_TOPIC_ALARMS: names.alarms,
    KAFKA_TOPIC_PARTITIONS: '3',
  };
  const archive = {
    ARCHIVE_S3_BUCKET: names.bucket,
    ARCHIVE_S3_PREFIX: 'lake/telemetry',
    ARCHIVE_S3_ENDPOINT: MOTO_URL,
    ARCHIVE_S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID!,
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY!,
    AWS_REGION: 'us-east-1',
  };
  // Downstream first, so nothing waits on a consumer group that is not there yet.
  await startContainer('influx-writer', {
    ...topics,
    INFLUX_URL: TEST_INFLUX_URL,
    INFLUX_DATABASE: db.name,
    WRITER_GROUP_ID: names.writerGroup,
  });
  await startContainer('archiver', {
    ...topics,
    ...archive,
    ARCHIVE_S3_CREATE_BUCKET: 'true',
    ARCHIVER_GROUP_ID: names.archiverGroup,
    ARCHIVE_MAX_FILE_AGE_MS: '2000',
    ARCHIVE_DUCKDB_MEMORY_LIMIT: '256MB',
  });
  await startContainer('parser', {
    ...topics,
    PARSER_GROUP_ID: names.parserGroup,
    PARSER_DEFAULT_TIMEZONE: 'Asia/Seoul',
  });
  await startContainer('bridge', {
    KAFKA_TOPIC_RAW: names.raw,
    KAFKA_TOPIC_PARTITIONS: '3',
    AMQP_URL: TEST_AMQP_URL,
    AMQP_EXCHANGE: names.exchange,
    AMQP_QUEUE: names.queue,
  });
  await startContainer('console', {
    ...topics,
    ...archive,
    KAFKA_TOPIC_DLQ_REPLAYS: names.replays,
    CONSOLE_HOST: '127.0.0.1',
    CONSOLE_PORT: String(consolePort),
    CONSOLE_TOKEN,
    CONSOLE_POLL_INTERVAL_MS: '1000',
    CONSOLE_SERVICES: (['bridge', 'parser', 'influx-writer', 'archiver'] as const)
      .map((s) => `${s}=http://127.0.0.1:${healthPorts[s]}`)
      .join(','),
    PARSER_GROUP_ID: names.parserGroup,
    WRITER_GROUP_ID: names.writerGroup,
    ARCHIVER_GROUP_ID: names.archiverGroup,
  });
}, 20 * 60_000);

afterAll(async () => {
  // The containers' logs outlive them (test-artifacts/images/<service>.log), then the containers go.
  for (const service of started) {
    const logs = await podmanStatus(['logs', container(service)]);
    writeFileSync(join(ARTIFACTS, `${service}.log`), logs.out);
  }
  if (started.length > 0)
    await podmanStatus(['rm', '--force', '--ignore', '--time', '5', ...started.map(container)]);
  await db?.drop().catch(() => undefined);
  await removeTestTopics(kafka, [
    names.raw,
    names.parsed,
    names.dlq,
    names.alarms,
    names.replays,
    `${names.parserGroup}.dedup`,
  ]);
  if (scratch) await rm(scratch, { recursive: true, force: true });
}, 120_000);

describe('the service images under podman', () => {
  it('builds every image the Dockerfile has a stage for, each running as a non-root user with a health check (but the cli)', async () => {
    const sizes: Record<string, number> = {};
    for (const service of IMAGES) {
      const config = await imageConfig(service);
      expect(config.user, service).toBe('node');
      if (service === 'cli') expect(config.healthcheck ?? ['NONE'], service).toEqual(['NONE']);
      else expect(config.healthcheck, service).toEqual(['CMD', 'node', '/app/healthcheck.mjs']);
      const { stdout } = await podman(['image', 'inspect', '--format', '{{.Size}}', imageOf(service)]);
      sizes[service] = Math.round(Number(stdout) / 1e6);
    }
    console.info(`image sizes (MB): ${JSON.stringify(sizes)}`);
  });

  it('starts bridge, parser, influx-writer, archiver and console: each answers /healthz/ready with 200', async () => {
    for (const service of RUNNING) {
      const status = await waitFor(
        async () => {
          const { stdout } = await podman(['inspect', '--format', '{{.State.Status}}', container(service)]);
          if (stdout.trim() !== 'running') throw new Error(`${service} container is ${stdout.trim()}`);
          return ready(healthPorts[service]);
        },
        (s) => s === 200,
        { what: `${service} /healthz/ready`, timeoutMs: 90_000, intervalMs: 500 },
      ).catch(async (error: Error) => {
        const { out } = await podmanStatus(['logs', '--tail', '40', container(service)]);
        throw new Error(`${error.message}\n--- ${service} log ---\n${out}`);
      });
      expect(status, service).toBe(200);
      // The image's own HEALTHCHECK (node /app/healthcheck.mjs) agrees.
      const check = await podmanStatus(['healthcheck', 'run', container(service)]);
      expect(check, `${service} healthcheck`).toMatchObject({ code: 0 });
    }
  });

  it('runs each container as the non-root image user, on a read-only root filesystem', async () => {
    for (const service of RUNNING) {
      const name = container(service);
      const { stdout: uid } = await podman(['exec', name, 'id', '-u']);
      expect(uid.trim(), service).not.toBe('0');
      expect(uid.trim(), service).toBe('1000');
      const { stdout: rootfs } = await podman([
        'inspect',
        '--format',
        '{{.HostConfig.ReadonlyRootfs}}',
        name,
      ]);
      expect(rootfs.trim(), service).toBe('true');
      // Even root cannot write outside the tmpfs: it is the filesystem that refuses, not a permission.
      const asRoot = await podmanStatus(['exec', '--user', '0', name, 'sh', '-c', 'echo x > /app/probe']);
      expect(asRoot.code, service).not.toBe(0);
      expect(asRoot.out, service).toMatch(/Read-only file system/);
      // The image's writable place is the tmpfs, writable by the service's user.
      const tmpfs = await podmanStatus([
        'exec',
        name,
        'sh',
        '-c',
        'echo x > /app/.local/probe && rm /app/.local/probe',
      ]);
      expect(tmpfs, service).toMatchObject({ code: 0 });
    }
  });

  it(`turns ${MESSAGES} raw messages into exactly ${MESSAGES * RECORDS_PER_MESSAGE} points and every value once in the archive`, async () => {
    const sites = SITES.map((siteId, i) => createMicrogridSite({ siteId, seed: 900 + i }));
    // Through RabbitMQ: the bridge container forwards them to the raw topic.
    const amqp = amqpConfigFromEnv(
      amqpEnvSchema.parse({
        AMQP_URL: TEST_AMQP_URL,
        AMQP_EXCHANGE: names.exchange,
        AMQP_QUEUE: names.queue,
      }),
    );
    const publisher = new AmqpPublisher({ amqp, declare: 'topology' });
    const confirms: Promise<void>[] = [];
    for (let i = 0; i < AMQP_PER_SITE; i++) {
      for (const site of sites) {
        const body = site.next(new Date(START + i * 1000), 'Asia/Seoul');
        sent.push({ key: site.siteId, value: body });
        confirms.push(publisher.publish(`site.${site.siteId}`, body, { messageId: `${site.siteId}-a${i}` }));
      }
    }
    await Promise.all(confirms);
    await publisher.close();
    // Straight onto the raw topic, as the bridge writes them.
    const producer = new ReliableProducer(kafka, logger);
    await producer.connect();
    try {
      for (let i = AMQP_PER_SITE; i < AMQP_PER_SITE + KAFKA_PER_SITE; i += 20) {
        const batch = [];
        for (let j = i; j < i + 20; j++) {
          for (const site of sites) {
            const value = site.next(new Date(START + j * 1000), 'Asia/Seoul');
            sent.push({ key: site.siteId, value });
            batch.push({
              key: site.siteId,
              value,
              headers: {
                [RAW_HEADER.schema]: 'microgrid.v1',
                [RAW_HEADER.source]: 'test://images',
                [RAW_HEADER.receivedAt]: new Date().toISOString(),
                [RAW_HEADER.messageId]: `${site.siteId}-k${j}`,
              },
            });
          }
        }
        await producer.send(names.raw, batch);
      }
    } finally {
      await producer.disconnect();
    }
    expect(sent).toHaveLength(MESSAGES);

    // Expected, from what was sent (the parser's decoding, run here): records and archive rows.
    let expectedRecords = 0;
    for (const [i, m] of sent.entries()) {
      const result = parseRaw(
        {
          topic: names.raw,
          partition: 0,
          offset: String(i),
          value: m.value,
          headers: { [RAW_HEADER.schema]: 'microgrid.v1' },
        },
        { maxBytes: 4 * 1024 * 1024, zoneForSite: () => 'Asia/Seoul' },
      );
      expect(result.problems).toEqual([]);
      expectedRecords += result.records.length;
      for (const r of result.records)
        expectedRows += Object.keys(r.fields).length + Object.keys(r.flags).length;
    }
    expect(expectedRecords).toBe(MESSAGES * RECORDS_PER_MESSAGE);

    // InfluxDB: exactly one point per record, and it stays exact (no late duplicates).
    await waitFor(
      () => countPoints(db.config, db.name),
      (n) => n >= expectedRecords,
      { what: `${expectedRecords} points`, timeoutMs: 150_000, intervalMs: 1_000 },
    );
    await sleep(2_000);
    expect(await countPoints(db.config, db.name)).toBe(expectedRecords);
    expect(await countPoints(db.config, db.name, 'battery')).toBe(MESSAGES * 6); // 3 batteries + 3 racks

    // The archive: once the archiver has committed everything (it commits after the upload), the
    // bucket holds every value once: per (partition, offset) no more and no fewer rows.
    await waitFor(
      async () => {
        const lag = await consumerLag(kafka, names.archiverGroup, [names.parsed]);
        return lag.length === 0 ? Number.POSITIVE_INFINITY : lag.reduce((n, p) => n + p.lag, 0);
      },
      (n) => n === 0,
      { what: 'archiver offsets committed', timeoutMs: 120_000, intervalMs: 1_000 },
    );
    const store = createObjectStore(
      archiverConfigSchema.parse({
        KAFKA_BROKERS: TEST_BROKERS.join(','),
        ARCHIVE_S3_BUCKET: names.bucket,
        ARCHIVE_S3_PREFIX: 'lake/telemetry',
        ARCHIVE_S3_ENDPOINT: MOTO_URL,
        ARCHIVE_S3_FORCE_PATH_STYLE: 'true',
      }),
    );
    const paths: string[] = [];
    try {
      const objects = await store.list('');
      for (const [i, o] of objects.entries()) {
        const path = join(scratch, `${i}.parquet`);
        await store.getToFile(o.key, path);
        paths.push(path);
      }
    } finally {
      store.close();
    }
    expect(paths.length).toBeGreaterThan(0);
    const { rows } = await readParquetWithPyarrow(paths);
    const identity = (r: (typeof rows)[number]) => `${r[0]}|${r[1]}|${r[2]}|${r[3]}|${r[4] ?? ''}|${r[5]}`;
    expect({ rows: rows.length, distinct: new Set(rows.map(identity)).size }).toEqual({
      rows: expectedRows,
      distinct: expectedRows,
    });
    expect(await readTopic(kafka, names.dlq, 0)).toHaveLength(0);
  });

  it('the console container sees the other containers ready and their consumer groups caught up', async () => {
    type Snapshot = {
      services?: { name: string; ready: boolean }[];
      lag?: { service: string; total: number; error?: string }[];
    };
    const snapshot = await waitFor(
      async () => {
        const res = await fetch(`http://127.0.0.1:${consolePort}/api/pipeline`, {
          headers: { authorization: `Bearer ${CONSOLE_TOKEN}` },
          signal: AbortSignal.timeout(10_000),
        });
        return (await res.json()) as Snapshot;
      },
      (s) =>
        (s.services ?? []).filter((x) => x.ready).length === 4 &&
        (s.lag ?? []).length === 3 &&
        (s.lag ?? []).every((g) => g.error === undefined && g.total === 0),
      { what: 'the console seeing 4 ready services and no lag', timeoutMs: 30_000, intervalMs: 1_000 },
    );
    expect(snapshot.services?.map((x) => x.name).sort()).toEqual([
      'archiver',
      'bridge',
      'influx-writer',
      'parser',
    ]);
  });

  it('the console container queries the same archive with its DuckDB: the same row count', async () => {
    const res = await fetch(`http://127.0.0.1:${consolePort}/api/query`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CONSOLE_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sql: 'SELECT count(*) AS n FROM telemetry', engine: 'duckdb' }),
      signal: AbortSignal.timeout(120_000),
    });
    const body = (await res.json()) as { columns?: string[]; rows?: unknown[][]; error?: string };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(expectedRows).toBeGreaterThan(0);
    expect(Number(body.rows?.[0]?.[0])).toBe(expectedRows);
  });

  it('runs the cli image: --help exits 0 with the usage', async () => {
    const { user } = await imageConfig('cli');
    const { stdout } = await podman([
      'run',
      '--rm',
      '--network',
      'none',
      '--read-only',
      '--user',
      user,
      '--cap-drop',
      'ALL',
      imageOf('cli'),
      'node',
      'packages/cli/dist/main.js',
      '--help',
    ]);
    expect(stdout).toMatch(/topics/);
  });

  it('stops every container on SIGTERM within its grace period, with exit code 0', async () => {
    // Upstream first, the way an operator drains a pipeline.
    const stopMs: Record<string, number> = {};
    for (const service of ['bridge', 'parser', 'influx-writer', 'archiver', 'console'] as const) {
      const t0 = Date.now();
      await podman(['stop', '--time', '40', container(service)], 60_000);
      const { stdout } = await podman(['inspect', '--format', '{{.State.ExitCode}}', container(service)]);
      expect({ service, exitCode: stdout.trim() }).toEqual({ service, exitCode: '0' });
      stopMs[service] = Date.now() - t0;
    }
    console.info(`stop times (ms): ${JSON.stringify(stopMs)}`);
    for (const [service, ms] of Object.entries(stopMs)) expect(ms, `${service} stop`).toBeLessThan(35_000);
  });
});
