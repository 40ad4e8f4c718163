import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@gridstream/config';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlarmBoard } from './alarm-board.js';
import { consoleConfigSchema } from './config.js';
import { offlineConsoleApp } from './offline-app.fixture.js';

/**
 * The auth wall, without any server behind it: every route answers 401/redirect before it would touch
 * Kafka (the Kafka client here is never connected), and the pages escape what they show.
 */
const PASSWORD = 'open sesame 123';
const TOKEN = 'tok-0123456789abcdef-xyz';
let app: FastifyInstance;
let dir: string;
let alarms: AlarmBoard;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gs-console-app-'));
  ({ app, alarms } = await offlineConsoleApp({
    CONSOLE_PASSWORD: PASSWORD,
    CONSOLE_TOKEN: TOKEN,
    CONSOLE_IMPORT_DIR: join(dir, 'imports'),
    CONSOLE_UPLOAD_MAX_BYTES: '2048',
    CONSOLE_QUERY_TIMEOUT_MS: '1000',
    CONSOLE_RATE_LIMIT_PER_MINUTE: '300',
    ARCHIVE_DIR: join(dir, 'archive'),
    ARCHIVE_CACHE_DIR: join(dir, 'archive-cache'),
  }));
});
afterAll(async () => {
  await app?.close();
  await rm(dir, { recursive: true, force: true });
});

const ORIGIN = { host: 'localhost:80', origin: 'http://localhost:80' };

async function login(): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: '/login',
    headers: { ...ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
    payload: `password=${encodeURIComponent(PASSWORD)}&next=%2Falarms`,
  });
  expect(res.statusCode).toBe(303);
  expect(res.headers.location).toBe('/alarms');
  const cookie = String(res.headers['set-cookie']);
  expect(cookie).toMatch(/HttpOnly/i);
  expect(cookie).toMatch(/SameSite=Strict/i);
  return cookie.split(';')[0]!;
}

const PAGES = [
  '/',
  '/pipeline',
  '/dead-letters',
  '/dead-letters/0/1',
  '/import',
  '/import/file?name=a.csv',
  '/import/jobs/x',
  '/query',
  '/alarms',
  '/static/console.js',
  '/static/uplot.js',
];
const APIS = [
  '/api/pipeline',
  '/api/pipeline/history',
  '/api/dead-letters',
  '/api/alarms',
  '/api/import/jobs/x',
  '/api/import/jobs/x/events',
];
const POSTS = [
  '/dead-letters/replay',
  '/import/upload',
  '/import/file',
  '/query',
  '/api/query',
  '/api/dead-letters/replay',
];

describe('console authentication', () => {
  it('sends every page to the login form and refuses every API call without a session', async () => {
    for (const url of PAGES) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(303);
      expect(res.headers.location, url).toBe(`/login?next=${encodeURIComponent(url)}`);
    }
    for (const url of APIS) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(401);
    }
    for (const url of POSTS) {
      const res = await app.inject({ method: 'POST', url, headers: ORIGIN, payload: {} });
      expect(res.statusCode, url).toBe(401);
    }
  });

  it('refuses a wrong password and a wrong token', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/login',
      headers: { ...ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'password=guess',
    });
    expect(res.statusCode).toBe(401);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.body).toContain('Wrong password');
    const api = await app.inject({
      method: 'GET',
      url: '/api/alarms',
      headers: { authorization: 'Bearer nope' },
    });
    expect(api.statusCode).toBe(401);
  });

  it('lets a session and the bearer token in', async () => {
    const cookie = await login();
    const page = await app.inject({ method: 'GET', url: '/pipeline', headers: { cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    const api = await app.inject({
      method: 'GET',
      url: '/api/pipeline',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(api.statusCode).toBe(200);
    expect(api.json().services[0].name).toBe('parser');
    const forged = await app.inject({ method: 'GET', url: '/pipeline', headers: { cookie: `${cookie}x` } });
    expect(forged.statusCode).toBe(303);
  });

  it('ends the session at logout: the same cookie, replayed, no longer gets in', async () => {
    const cookie = await login();
    expect((await app.inject({ method: 'GET', url: '/pipeline', headers: { cookie } })).statusCode).toBe(200);
    const out = await app.inject({ method: 'POST', url: '/logout', headers: { ...ORIGIN, cookie } });
    expect(out.statusCode).toBe(303);
    const replayed = await app.inject({ method: 'GET', url: '/pipeline', headers: { cookie } });
    expect(replayed.statusCode).toBe(303);
    expect(replayed.headers.location).toBe('/login?next=%2Fpipeline');
    const api = await app.inject({ method: 'GET', url: '/api/alarms', headers: { cookie } });
    expect(api.statusCode).toBe(401);
  });

  it('throttles bearer-token guesses like password guesses, per address, counted together', async () => {
    const remoteAddress = '10.9.8.7';
    for (let i = 0; i < 5; i++) {
      const res = await app.inject({
        method: 'GET',
        url: '/api/alarms',
        remoteAddress,
        headers: { authorization: `Bearer guess-${i}` },
      });
      expect(res.statusCode).toBe(401);
    }
    for (let i = 0; i < 5; i++) {
      const res = await app.inject({
        method: 'POST',
        url: '/login',
        remoteAddress,
        headers: { ...ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
        payload: `password=guess-${i}`,
      });
      expect(res.statusCode).toBe(401);
    }
    // Ten failures: now even the right token and the right password are refused from there…
    const token = await app.inject({
      method: 'GET',
      url: '/api/alarms',
      remoteAddress,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(token.statusCode).toBe(429);
    const password = await app.inject({
      method: 'POST',
      url: '/login',
      remoteAddress,
      headers: { ...ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `password=${encodeURIComponent(PASSWORD)}`,
    });
    expect(password.statusCode).toBe(429);
    // …while another address is not affected.
    const other = await app.inject({
      method: 'GET',
      url: '/api/alarms',
      remoteAddress: '10.9.8.8',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(other.statusCode).toBe(200);
  });

  it('sends the security headers (helmet) with our policy', async () => {
    const cookie = await login();
    const page = await app.inject({ method: 'GET', url: '/alarms', headers: { cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toBe(
      "default-src 'self';script-src 'self';style-src 'self' 'unsafe-inline';img-src 'self' data:;frame-ancestors 'none';form-action 'self';base-uri 'none';object-src 'none'",
    );
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['referrer-policy']).toBe('same-origin');
    expect(page.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(page.headers['cache-control']).toBe('no-store');
    // Plain HTTP here (CONSOLE_SECURE_COOKIES unset): no HSTS, which would only be ignored.
    expect(page.headers['strict-transport-security']).toBeUndefined();
  });

  it('answers 429 past CONSOLE_RATE_LIMIT_PER_MINUTE requests from one address, before authentication', async () => {
    const remoteAddress = '10.20.30.40';
    const statuses: number[] = [];
    for (let i = 0; i < 301; i++) {
      const res = await app.inject({ method: 'GET', url: '/api/alarms', remoteAddress });
      statuses.push(res.statusCode);
    }
    expect(statuses.slice(0, 300).every((s) => s === 401)).toBe(true);
    expect(statuses[300]).toBe(429);
    const limited = await app.inject({ method: 'GET', url: '/api/pipeline', remoteAddress });
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error).toMatch(/^Too many requests: at most 300 a minute from one address/);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    const page = await app.inject({ method: 'GET', url: '/login', remoteAddress });
    expect(page.statusCode).toBe(429);
    expect(page.headers['content-type']).toContain('text/html');
    // Another address is not affected.
    expect(
      (await app.inject({ method: 'GET', url: '/login', remoteAddress: '10.20.30.41' })).statusCode,
    ).toBe(200);
  });

  it('refuses a request naming an unknown host, even with a valid session (DNS rebinding)', async () => {
    const cookie = await login();
    const rebound = await app.inject({
      method: 'GET',
      url: '/api/alarms',
      headers: { host: 'evil.example:80', cookie },
    });
    expect(rebound.statusCode).toBe(421);
    const post = await app.inject({
      method: 'POST',
      url: '/dead-letters/replay',
      headers: { host: 'evil.example:80', origin: 'http://evil.example:80', cookie },
      payload: 'ids=0%2F1',
    });
    expect(post.statusCode).toBe(421);
    const byIp = await app.inject({
      method: 'GET',
      url: '/api/alarms',
      headers: { host: '127.0.0.1:8090', cookie },
    });
    expect(byIp.statusCode).toBe(200);
  });

  it('answers 404, not 500, for static names that are Object.prototype keys', async () => {
    const cookie = await login();
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const res = await app.inject({ method: 'GET', url: `/static/${name}`, headers: { cookie } });
      expect(res.statusCode).toBe(404);
    }
  });

  it('refuses state-changing requests from another origin even with a session (CSRF)', async () => {
    const cookie = await login();
    for (const headers of [
      { host: 'localhost:80', origin: 'http://evil.example' },
      { host: 'localhost:80' },
    ]) {
      const res = await app.inject({
        method: 'POST',
        url: '/dead-letters/replay',
        headers: { ...headers, cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'ids=0%2F1',
      });
      expect(res.statusCode).toBe(403);
    }
  });

  it('escapes what it shows (an alarm message with markup)', async () => {
    alarms.apply(
      Buffer.from(
        JSON.stringify({
          v: 1,
          id: 'x@2026-01-01T00:00:00.000Z',
          site: '000001',
          equipment: 'battery',
          device: 'bank',
          rule: 'soc_low',
          field: 'soc',
          state: 'raised',
          level: 'fault',
          value: 3,
          threshold: 5,
          raisedAt: '2026-01-01T00:00:00.000Z',
          ts: '2026-01-01T00:00:00.000Z',
          message: '<img src=x onerror=alert(1)>',
        }),
      ),
      null,
    );
    const cookie = await login();
    const res = await app.inject({ method: 'GET', url: '/alarms', headers: { cookie } });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(res.body).not.toContain('<img src=x');
  });

  it('after login redirects only to a local path (no tab/CR/LF tricks, no 500 on non-Latin-1)', async () => {
    for (const next of ['/\t/evil.example', '/\r\n/evil.example', '/\u20ac', '//evil.example']) {
      const res = await app.inject({
        method: 'POST',
        url: '/login',
        headers: { ...ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
        payload: `password=${encodeURIComponent(PASSWORD)}&next=${encodeURIComponent(next)}`,
      });
      expect(res.statusCode, JSON.stringify(next)).toBe(303);
      expect(res.headers.location, JSON.stringify(next)).toBe('/');
    }
  });

  it('refuses an upload over CONSOLE_UPLOAD_MAX_BYTES with 413 and leaves no partial file', async () => {
    const cookie = await login();
    const boundary = '----gridstream-test-boundary';
    const upload = (bytes: number) =>
      app.inject({
        method: 'POST',
        url: '/import/upload',
        headers: { ...ORIGIN, cookie, 'content-type': `multipart/form-data; boundary=${boundary}` },
        payload: Buffer.concat([
          Buffer.from(
            `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n` +
              'Content-Type: text/csv\r\n\r\n',
          ),
          Buffer.from(`ts,v\n${'2026-01-01 00:00:00,1\n'.repeat(Math.ceil(bytes / 22))}`.slice(0, bytes)),
          Buffer.from(`\r\n--${boundary}--\r\n`),
        ]),
      });
    const big = await upload(10_000);
    expect(big.statusCode).toBe(413);
    expect(big.body).toContain('larger than the upload limit (2048 bytes)');
    expect(await readdir(join(dir, 'imports'))).toEqual([]);
    // Under the limit the same form is stored (so the 413 above was the size, not the form).
    const small = await upload(1_000);
    expect(small.statusCode).toBe(303);
    const files = await readdir(join(dir, 'imports'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/big\.csv$/);
    expect(files[0]!.startsWith('.')).toBe(false);
  });

  it('shares the two-query cap between the page and the API, and stops DuckDB at the timeout', async () => {
    const cookie = await login();
    const api = (sql: string) =>
      app.inject({
        method: 'POST',
        url: '/api/query',
        headers: { authorization: `Bearer ${TOKEN}` },
        payload: { sql, engine: 'duckdb' },
      });
    const slow = 'SELECT count(*) FROM range(1000000000000)';
    const running = [api(slow), api(slow)];
    // Both are running now (DuckDB works off the event loop): a third query, page or API, is refused.
    await new Promise((r) => setTimeout(r, 200));
    expect((await api('SELECT 1')).statusCode).toBe(429);
    const page = await app.inject({
      method: 'POST',
      url: '/query',
      headers: { ...ORIGIN, cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'sql=SELECT+1&engine=duckdb',
    });
    expect(page.statusCode).toBe(429);
    for (const res of await Promise.all(running)) {
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatch(/longer than 1 s and was stopped/);
    }
    const ok = await api('SELECT 42 AS answer');
    expect(ok.statusCode).toBe(200);
    expect(ok.json().rows).toEqual([['42']]);
    const refused = await api(`COPY (SELECT 1) TO '${join(dir, 'x.csv')}'`);
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error).toMatch(/COPY is refused/);
  });

  it('refuses a replay of more than 1000 letters with 400', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/dead-letters/replay',
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: { ids: Array.from({ length: 1_001 }, (_, i) => `0/${i}`) },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatch(/at most 1000 letters/);
  });

  it('refuses import names that leave the folder', async () => {
    const cookie = await login();
    const res = await app.inject({
      method: 'GET',
      url: '/import/file?name=..%2F..%2Fetc%2Fpasswd',
      headers: { cookie },
    });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('is not a file name in the import folder');
  });
});

describe('console configuration', () => {
  it('will not start without a password or token', () => {
    expect(() => loadConfig(consoleConfigSchema, {})).toThrow(/CONSOLE_PASSWORD/);
    expect(loadConfig(consoleConfigSchema, { CONSOLE_TOKEN: TOKEN }).CONSOLE_PORT).toBe(8080);
    const cfg = loadConfig(consoleConfigSchema, { CONSOLE_PASSWORD: PASSWORD });
    expect(cfg.CONSOLE_HOST).toBe('127.0.0.1');
    expect(cfg.HEALTH_PORT).toBe(9107);
    expect(cfg.CONSOLE_SERVICES.parser).toBe('http://127.0.0.1:9102');
  });

  it('reads the password from CONSOLE_PASSWORD_FILE', async () => {
    const { writeFile } = await import('node:fs/promises');
    const file = join(dir, 'pw');
    await writeFile(file, `${PASSWORD}\n`);
    expect(loadConfig(consoleConfigSchema, { CONSOLE_PASSWORD_FILE: file }).CONSOLE_PASSWORD).toBe(PASSWORD);
  });
});
