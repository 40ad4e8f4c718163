import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '@gridstream/testkit';
import pg from 'pg';

/**
 * The tests' PostgreSQL: the private cluster of deploy/local/postgresql.sh (`make infra-test` starts it),
 * reached as the role `gridstream` with the password the script generated. Every test file makes its own
 * database (a unique name) and drops it afterwards, so files never see each other's rows.
 */
const run = promisify(execFile);
const SCRIPT = join(REPO_ROOT, 'deploy', 'local', 'postgresql.sh');

export interface PgInstance {
  port: number;
  /** The file holding the role's password (made by the script's `wait`). */
  passwordFile: string;
  /** deploy/local/postgresql.sh with this instance's variables. */
  script(command: 'start' | 'stop' | 'wait' | 'pid' | 'status'): Promise<string>;
  password(): string;
}

/** The shared test cluster, or a private one (own data, port) for a test that stops it. */
export function pgInstance(instance?: { name: string; port: number }): PgInstance {
  const port = instance?.port ?? Number(process.env.TEST_PG_PORT ?? 55432);
  const env = {
    ...process.env,
    POSTGRES_PORT: String(port),
    ...(instance ? { POSTGRES_INSTANCE: instance.name } : {}),
  };
  // Where deploy/local keeps its state (lib.sh: GRIDSTREAM_HOME, default <repo>/.local).
  const local = process.env.GRIDSTREAM_HOME ?? join(REPO_ROOT, '.local');
  const home = join(local, `postgresql${instance ? `-${instance.name}` : ''}`);
  const passwordFile = join(home, 'gridstream.password');
  return {
    port,
    passwordFile,
    script: async (command) => (await run(SCRIPT, [command], { env, timeout: 180_000 })).stdout.trim(),
    password: () => readFileSync(passwordFile, 'utf8').trim(),
  };
}

export const sharedPg = pgInstance();

/** Starts the cluster unless it answers; idempotent, like influxdb.sh in the influx tests. */
export async function ensurePgRunning(instance: PgInstance = sharedPg): Promise<void> {
  await instance.script('start');
  await instance.script('wait');
}

export interface TestPgDatabase {
  name: string;
  /** PG_* variables of the writer for this database. */
  env: Record<string, string>;
  query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  /** One statement on the role's own database: what cannot run inside this one (ALTER DATABASE). */
  adminQuery(sql: string): Promise<void>;
  /** Closes the test's own connection and drops the database (with whatever is still connected). */
  drop(): Promise<void>;
}

function clientConfig(instance: PgInstance, database: string): pg.ClientConfig {
  return {
    host: '127.0.0.1',
    port: instance.port,
    user: 'gridstream',
    password: instance.password(),
    database,
  };
}

export async function createTestPgDatabase(
  prefix: string,
  instance: PgInstance = sharedPg,
): Promise<TestPgDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client(clientConfig(instance, 'gridstream'));
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  let client: pg.Client | undefined;
  const connected = async () => {
    if (!client) {
      const c = new pg.Client(clientConfig(instance, name));
      // A test that restarts the server or terminates connections breaks this one: reconnect next time.
      c.on('error', () => {
        if (client === c) client = undefined;
      });
      await c.connect();
      client = c;
    }
    return client;
  };
  return {
    name,
    env: {
      PG_HOST: '127.0.0.1',
      PG_PORT: String(instance.port),
      PG_USER: 'gridstream',
      PG_PASSWORD_FILE: instance.passwordFile,
      PG_DATABASE: name,
    },
    async query(sql, params) {
      const c = await connected();
      try {
        return (await c.query(sql, params)).rows;
      } catch (error) {
        // A connection the server dropped is replaced for the next query.
        if ((error as { code?: string }).code === undefined) client = undefined;
        throw error;
      }
    },
    async adminQuery(sql) {
      const admin = new pg.Client(clientConfig(instance, 'gridstream'));
      await admin.connect();
      try {
        await admin.query(sql);
      } finally {
        await admin.end();
      }
    },
    async drop() {
      await client?.end().catch(() => undefined);
      client = undefined;
      const admin = new pg.Client(clientConfig(instance, 'gridstream'));
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}
