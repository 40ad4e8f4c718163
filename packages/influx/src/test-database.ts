import { randomBytes } from 'node:crypto';
import type { InfluxConfig } from './influx-config.js';
import { quoteIdentifier } from './influx-http.js';
import { executeInflux } from './influx-query.js';

export interface TestDatabase {
  name: string;
  /** The given config pointed at this database (and, for v2 over 1.8+, at its bucket). */
  config: InfluxConfig;
  drop(): Promise<void>;
}

/**
 * A uniquely named, freshly created database for one integration test, so tests sharing one InfluxDB never
 * see each other's points. Call drop() in afterAll/finally; names start with `prefix` so leftovers from a
 * crashed run are easy to find (`SHOW DATABASES`).
 */
export async function createTestDatabase(cfg: InfluxConfig, prefix = 'gs_test'): Promise<TestDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  // Admin statements go through the 1.x /query endpoint, which 1.8 serves on the same port as /api/v2.
  const admin: InfluxConfig = { ...cfg, api: 'v1' };
  await executeInflux(admin, `CREATE DATABASE ${quoteIdentifier(name)}`);
  return {
    name,
    config: { ...cfg, database: name, bucket: cfg.api === 'v2' ? name : cfg.bucket },
    drop: async () => {
      await executeInflux(admin, `DROP DATABASE ${quoteIdentifier(name)}`);
    },
  };
}

/**
 * Polls /ping until the server answers or `timeoutMs` passes; for test setup, where the local InfluxDB may
 * still be starting (`deploy/local/influxdb.sh start` returns before it listens).
 */
export async function waitForInflux(cfg: InfluxConfig, timeoutMs = 60_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const url = `${cfg.url.replace(/\/+$/, '')}/ping`;
  for (;;) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.ok) return true;
    } catch {
      // not up yet
    }
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
