import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import type { Engine, ToolsEnv } from '@gridstream/archive-tools';
import { defaultEngine } from '@gridstream/archive-tools';
import {
  ImportOptionsError,
  type ImportOptionsInput,
  type ImportSink,
  importFiles,
  parseImportOptions,
  previewFile,
} from '@gridstream/importer';
import { counter, type ReliableProducer } from '@gridstream/kafka';
import type { Logger } from '@gridstream/runtime';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import type { ActiveAlarms } from './active-alarms.js';
import { runConsoleQuery } from './archive-query.js';
import {
  bearerToken,
  hostAllowed,
  LoginThrottle,
  originAllowed,
  SESSION_COOKIE,
  SessionSigner,
  safeNextPath,
  secretEquals,
} from './auth.js';
import type { ConsoleConfig } from './config.js';
import { type DeadLetterStore, decodeCursor } from './dead-letters.js';
import {
  ImportPathError,
  listImportFolder,
  resolveImportFile,
  saveUpload,
  UploadTooLargeError,
} from './import-folder.js';
import {
  type ImportJob,
  type ImportJobs,
  inImportFolder,
  type JobSummary,
  withoutFolder,
} from './import-jobs.js';
import {
  alarmsPage,
  alarmsTable,
  deadLetterPage,
  deadLettersPage,
  errorPage,
  importFilePage,
  importJobPage,
  importPage,
  loginPage,
  pipelinePage,
  queryPage,
} from './pages.js';
import type { PipelineMonitor } from './pipeline-monitor.js';
import { staticFile } from './static-files.js';

export interface ConsoleDeps {
  config: ConsoleConfig;
  logger: Logger;
  metrics: Registry;
  monitor: PipelineMonitor;
  deadLetters: DeadLetterStore;
  producer: ReliableProducer;
  alarms: ActiveAlarms;
  jobs: ImportJobs;
  importSink: ImportSink;
}

const EXAMPLE_SQL = `SELECT date_trunc('minute', ts) AS minute, site, field, avg(value) AS avg_value
FROM telemetry
WHERE is_flag = false
GROUP BY 1, 2, 3
ORDER BY 1
LIMIT 500`;

const MAX_QUERIES_RUNNING = 2;

type Form = Record<string, string | string[] | undefined>;
const one = (v: string | string[] | undefined): string =>
  (Array.isArray(v) ? (v[0] ?? '') : (v ?? '')).trim();
const many = (v: string | string[] | undefined): string[] =>
  (Array.isArray(v) ? v : v === undefined ? [] : [v]).map((s) => s.trim()).filter((s) => s !== '');

function parseLetterId(id: string): { partition: number; offset: bigint } | undefined {
  const match = /^(\d{1,6})\/(\d{1,19})$/.exec(id);
  return match ? { partition: Number(match[1]), offset: BigInt(match[2]!) } : undefined;
}

/** The console's HTTP app; built without listening so tests can use `inject` as well as a real port. */
export async function buildConsoleApp(deps: ConsoleDeps): Promise<FastifyInstance> {
  const { config, logger, monitor, deadLetters, alarms, jobs } = deps;
  const app = Fastify({
    logger: false,
    bodyLimit: 16 * 1024 * 1024,
    // Time to receive a whole request (headers and body; what is streamed back, such as an import's SSE
    // progress, is not limited by it): a client trickling bytes cannot hold a connection for ever.
    requestTimeout: 120_000,
    // Open SSE streams would otherwise keep close() waiting until every browser tab goes away.
    forceCloseConnections: true,
  });
  const signer = new SessionSigner(config.CONSOLE_SESSION_SECRET, config.CONSOLE_SESSION_HOURS * 3_600_000);
  const replaysTotal = counter(deps.metrics, 'gridstream_console_replays_total', 'Dead letters replayed');
  const importsTotal = counter(deps.metrics, 'gridstream_console_imports_total', 'Import jobs by outcome', [
    'outcome',
  ]);
  const importRows = counter(
    deps.metrics,
    'gridstream_console_import_rows_total',
    'Imported rows by outcome',
    ['outcome'],
  );
  const logins = counter(deps.metrics, 'gridstream_console_logins_total', 'Login attempts by outcome', [
    'outcome',
  ]);
  const throttle = new LoginThrottle();
  let queriesRunning = 0;

  await app.register(cookie);
  await app.register(formbody);
  await app.register(multipart, {
    limits: { fileSize: config.CONSOLE_UPLOAD_MAX_BYTES, files: 1, fields: 20, fieldSize: 64 * 1024 },
  });

  app.setNotFoundHandler(async (req, reply) =>
    req.url.startsWith('/api/')
      ? reply.code(404).send({ error: 'not found' })
      : sendHtml(reply, errorPage('Not found', 'There is no such page.'), 404),
  );
  app.setErrorHandler(async (error, req, reply) => {
    logger.error({ err: error, url: req.url }, 'console request failed');
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    const message = status < 500 ? (error as Error).message : 'Internal error (see the console log).';
    return req.url.startsWith('/api/')
      ? reply.code(status).send({ error: message })
      : sendHtml(reply, errorPage('Error', message), status);
  });

  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header(
      'content-security-policy',
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    );
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'same-origin');
    reply.header('x-frame-options', 'DENY');
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });

  const tokenOk = (token: string): boolean =>
    (config.CONSOLE_TOKEN !== undefined && secretEquals(token, config.CONSOLE_TOKEN)) ||
    (config.CONSOLE_PASSWORD !== undefined && secretEquals(token, config.CONSOLE_PASSWORD));

  // Every route is behind authentication except the login form itself.
  app.addHook('onRequest', async (req, reply) => {
    if (!hostAllowed(req.headers.host, config.CONSOLE_ALLOWED_HOSTS, config.CONSOLE_ALLOWED_ORIGINS)) {
      return reply
        .code(421)
        .type('text/plain')
        .send('unknown host: add it to CONSOLE_ALLOWED_HOSTS to reach the console by this name');
    }
    const path = req.url.split('?')[0]!;
    const stateChanging = req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'OPTIONS';
    const bearer = bearerToken(req.headers.authorization);
    if (bearer !== undefined) {
      // A bearer token is sent deliberately by a script, never attached by a browser: no CSRF check.
      if (throttle.blocked(req.ip)) {
        logins.inc({ outcome: 'throttled' });
        return reply.code(429).send({ error: 'too many failed attempts; wait a few minutes' });
      }
      if (tokenOk(bearer)) return;
      throttle.failed(req.ip);
      logins.inc({ outcome: 'failed' });
      logger.warn({ ip: req.ip }, 'console bearer token refused');
      return reply.code(401).send({ error: 'invalid token' });
    }
    if (
      stateChanging &&
      !originAllowed(
        { origin: req.headers.origin, referer: req.headers.referer, host: req.headers.host },
        config.CONSOLE_ALLOWED_ORIGINS,
      )
    ) {
      return reply.code(403).type('text/plain').send('cross-origin request refused');
    }
    if (path === '/login') return;
    if (signer.verify(req.cookies[SESSION_COOKIE])) return;
    if (path.startsWith('/api/')) return reply.code(401).send({ error: 'log in first' });
    if (req.method === 'GET') return reply.redirect(`/login?next=${encodeURIComponent(req.url)}`, 303);
    return reply.code(401).type('text/plain').send('log in first');
  });

  const sendHtml = (reply: FastifyReply, body: string, code = 200) =>
    reply.code(code).type('text/html; charset=utf-8').send(body);

  // ---- login ----
  app.get('/login', async (req, reply) => {
    const q = req.query as Record<string, string>;
    return sendHtml(reply, loginPage({ next: safeNextPath(q.next) }));
  });
  app.post('/login', async (req, reply) => {
    const body = (req.body ?? {}) as Form;
    const ip = req.ip;
    if (throttle.blocked(ip)) {
      logins.inc({ outcome: 'throttled' });
      return sendHtml(
        reply,
        loginPage({ next: '/', error: 'Too many failed attempts; wait a few minutes.' }),
        429,
      );
    }
    const next = safeNextPath(one(body.next));
    const password = one(body.password);
    const ok =
      password !== '' &&
      ((config.CONSOLE_PASSWORD !== undefined && secretEquals(password, config.CONSOLE_PASSWORD)) ||
        (config.CONSOLE_PASSWORD === undefined &&
          config.CONSOLE_TOKEN !== undefined &&
          secretEquals(password, config.CONSOLE_TOKEN)));
    if (!ok) {
      throttle.failed(ip);
      logins.inc({ outcome: 'failed' });
      logger.warn({ ip }, 'console login failed');
      return sendHtml(reply, loginPage({ next, error: 'Wrong password.' }), 401);
    }
    throttle.succeeded(ip);
    logins.inc({ outcome: 'ok' });
    reply.setCookie(SESSION_COOKIE, signer.issue(), {
      httpOnly: true,
      sameSite: 'strict',
      secure: config.CONSOLE_SECURE_COOKIES,
      path: '/',
      maxAge: signer.maxAgeSeconds,
    });
    return reply.redirect(next, 303);
  });
  app.post('/logout', async (req, reply) => {
    signer.revoke(req.cookies[SESSION_COOKIE]); // a copy of the cookie must not outlive the logout
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.redirect('/login', 303);
  });

  // ---- static ----
  app.get('/static/:name', async (req, reply) => {
    const file = await staticFile((req.params as { name: string }).name);
    if (!file) return reply.code(404).send('not found');
    return reply.header('cache-control', 'private, max-age=300').type(file.type).send(file.body);
  });

  // ---- pipeline ----
  app.get('/', async (_req, reply) => reply.redirect('/pipeline', 303));
  app.get('/pipeline', async (_req, reply) => sendHtml(reply, pipelinePage()));
  app.get('/api/pipeline', async () => {
    const active = alarms.active();
    return {
      ...monitor.snapshot(),
      replays: deadLetters.replayCount,
      replayedLetters: deadLetters.replays.size,
      alarms: { active: active.length, html: alarmsTable(active.slice(0, 5)).value },
    };
  });
  app.get('/api/pipeline/history', async () => ({
    intervalMs: config.CONSOLE_POLL_INTERVAL_MS,
    points: monitor.history.toArray(),
  }));

  // ---- dead letters ----
  const pageSize = (q: Record<string, string>) =>
    Math.min(500, Math.max(1, Number.parseInt(q.size ?? '', 10) || 50));
  app.get('/dead-letters', async (req, reply) => {
    const q = req.query as Record<string, string>;
    const size = pageSize(q);
    try {
      const page = await deadLetters.page(size, decodeCursor(q.before));
      return sendHtml(reply, deadLettersPage(page, { size, replays: deadLetters.replayCount }));
    } catch (error) {
      return sendHtml(
        reply,
        errorPage('Dead letters', `Cannot read the DLQ: ${(error as Error).message}`),
        503,
      );
    }
  });
  app.get('/api/dead-letters', async (req, reply) => {
    const q = req.query as Record<string, string>;
    try {
      const page = await deadLetters.page(pageSize(q), decodeCursor(q.before));
      return {
        total: page.total,
        next: page.next,
        items: page.items.map(({ payload, ...rest }) => ({ ...rest, payload: payload.toString('utf8') })),
      };
    } catch (error) {
      return reply.code(503).send({ error: (error as Error).message });
    }
  });
  app.get('/dead-letters/:partition/:offset', async (req, reply) => {
    const p = req.params as { partition: string; offset: string };
    const id = parseLetterId(`${p.partition}/${p.offset}`);
    if (!id) return sendHtml(reply, errorPage('Dead letter', 'Not a partition/offset.'), 400);
    try {
      const letter = await deadLetters.get(id.partition, id.offset);
      if (!letter)
        return sendHtml(reply, errorPage('Dead letter', 'No such letter (deleted by retention?).'), 404);
      return sendHtml(reply, deadLetterPage(letter));
    } catch (error) {
      return sendHtml(
        reply,
        errorPage('Dead letter', `Cannot read the DLQ: ${(error as Error).message}`),
        503,
      );
    }
  });

  const replay = async (ids: string[], override?: { id: string; payload: string }) => {
    const parsed = ids.map(parseLetterId);
    if (parsed.length === 0 || parsed.some((x) => x === undefined))
      throw new RangeError('choose letters by partition/offset');
    const overrides = override ? new Map([[override.id, Buffer.from(override.payload, 'utf8')]]) : undefined;
    const result = await deadLetters.replay(
      deps.producer,
      parsed as { partition: number; offset: bigint }[],
      overrides,
    );
    replaysTotal.inc(result.replayed.length);
    logger.info({ replayed: result.replayed, refused: result.refused }, 'dead letters replayed');
    return result;
  };
  app.post('/dead-letters/replay', async (req, reply) => {
    const body = (req.body ?? {}) as Form;
    const ids = many(body.ids);
    let override: { id: string; payload: string } | undefined;
    if (one(body.edit) === '1' && ids.length === 1 && typeof body.payload === 'string') {
      const letter =
        parseLetterId(ids[0]!) &&
        (await deadLetters.get(parseLetterId(ids[0]!)!.partition, parseLetterId(ids[0]!)!.offset));
      // Only a payload that was actually changed counts as an edit; the textarea is there either way.
      if (
        letter &&
        body.payload.replace(/\r\n/g, '\n') !== letter.payload.toString('utf8').replace(/\r\n/g, '\n')
      )
        override = { id: ids[0]!, payload: body.payload };
    }
    let flash: string;
    try {
      const result = await replay(ids, override);
      flash =
        `Replayed ${result.replayed.length} letter(s) to ${deadLetters.rawTopic}${override ? ' (with an edited payload)' : ''}.` +
        (result.refused.length > 0
          ? ` Refused: ${result.refused.map((r) => `${r.id} (${r.reason})`).join('; ')}.`
          : '');
    } catch (error) {
      flash = `Replay failed: ${(error as Error).message}`;
    }
    try {
      const page = await deadLetters.page(50);
      return sendHtml(reply, deadLettersPage(page, { size: 50, replays: deadLetters.replayCount, flash }));
    } catch (error) {
      return sendHtml(
        reply,
        errorPage('Dead letters', `${flash} (cannot list the DLQ: ${(error as Error).message})`),
        503,
      );
    }
  });
  app.post('/api/dead-letters/replay', async (req, reply) => {
    const body = (req.body ?? {}) as { ids?: unknown };
    const ids = Array.isArray(body.ids) ? body.ids.filter((x): x is string => typeof x === 'string') : [];
    try {
      return await replay(ids);
    } catch (error) {
      return reply.code(error instanceof RangeError ? 400 : 503).send({ error: (error as Error).message });
    }
  });

  // ---- alarms ----
  app.get('/alarms', async (_req, reply) =>
    sendHtml(reply, alarmsPage(alarms.active(), config.KAFKA_TOPIC_ALARMS, alarms.invalid)),
  );
  app.get('/api/alarms', async () => ({ active: alarms.active(), invalid: alarms.invalid }));

  // ---- import ----
  const dir = config.CONSOLE_IMPORT_DIR;
  const importList = async (reply: FastifyReply, error?: string, code = 200) =>
    sendHtml(
      reply,
      importPage({
        files: await listImportFolder(dir),
        jobs: jobs.list(),
        maxBytes: config.CONSOLE_UPLOAD_MAX_BYTES,
        ...(error ? { error } : {}),
      }),
      code,
    );
  app.get('/import', async (_req, reply) => importList(reply));
  app.post('/import/upload', async (req, reply) => {
    if (!req.isMultipart()) return importList(reply, 'Send the file as multipart/form-data.', 400);
    try {
      const data = await req.file();
      if (!data) return importList(reply, 'No file in the form.', 400);
      const saved = await saveUpload(dir, data.filename, data.file, config.CONSOLE_UPLOAD_MAX_BYTES);
      logger.info({ file: saved.name, bytes: saved.size }, 'import file uploaded');
      if (req.headers.accept?.includes('application/json')) return saved;
      return reply.redirect(`/import/file?name=${encodeURIComponent(saved.name)}`, 303);
    } catch (error) {
      if (
        error instanceof UploadTooLargeError ||
        (error as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE'
      )
        return importList(
          reply,
          `The file is larger than the upload limit (${config.CONSOLE_UPLOAD_MAX_BYTES} bytes).`,
          413,
        );
      if (error instanceof ImportPathError) return importList(reply, error.message, 400);
      throw error;
    }
  });

  const formToOptions = (path: string, body: Form): ImportOptionsInput => {
    const fromBoxes = many(body.valueColumn);
    const fromText = one(body.valueColumns)
      .split('|')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const valueColumns = [...new Set([...fromBoxes, ...fromText])];
    const deviceColumn = one(body.deviceColumn);
    const device = one(body.device);
    const options: Record<string, unknown> = {
      files: [path],
      format: 'auto',
      encoding: one(body.encoding) || 'auto',
      timeColumn: one(body.timeColumn),
      timeFormat: one(body.timeFormat) || 'auto',
      timeZone: one(body.timeZone) || 'UTC',
      valueColumns,
      deviceColumn: deviceColumn === '' ? null : deviceColumn,
      site: one(body.site),
      equipment: one(body.equipment),
    };
    if (device !== '') options.device = device;
    return options as ImportOptionsInput;
  };
  const formEcho = (body: Form): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const k of [
      'timeColumn',
      'timeFormat',
      'timeZone',
      'deviceColumn',
      'device',
      'site',
      'equipment',
      'encoding',
    ])
      out[k] = one(body[k]);
    out.valueColumns = [
      ...new Set([
        ...many(body.valueColumn),
        ...one(body.valueColumns)
          .split('|')
          .map((s) => s.trim()),
      ]),
    ]
      .filter((s) => s !== '')
      .join('|');
    return out;
  };

  app.get('/import/file', async (req, reply) => {
    const name = one((req.query as Form).name);
    try {
      const path = await resolveImportFile(dir, name);
      const preview = await previewFile({ files: [path] }, 10);
      return sendHtml(reply, importFilePage({ name, form: {}, preview, firstVisit: true }));
    } catch (error) {
      if (error instanceof ImportPathError) return importList(reply, error.message, 400);
      return sendHtml(
        reply,
        importFilePage({ name, form: {}, error: `Cannot read the file: ${(error as Error).message}` }),
        422,
      );
    }
  });
  app.post('/import/file', async (req, reply) => {
    const body = (req.body ?? {}) as Form;
    const name = one(body.name);
    let path: string;
    try {
      path = await resolveImportFile(dir, name);
    } catch (error) {
      if (error instanceof ImportPathError) return importList(reply, error.message, 400);
      throw error;
    }
    const options = formToOptions(path, body);
    const form = formEcho(body);
    if (one(body.action) !== 'run') {
      try {
        const preview = await previewFile(options, 10);
        return sendHtml(reply, importFilePage({ name, form, preview }));
      } catch (error) {
        return sendHtml(reply, importFilePage({ name, form, error: (error as Error).message }), 422);
      }
    }
    try {
      parseImportOptions(options);
    } catch (error) {
      if (!(error instanceof ImportOptionsError)) throw error;
      const preview = await previewFile(options, 10).catch(() => undefined);
      return sendHtml(
        reply,
        importFilePage({
          name,
          form,
          error: error.problems.map((p) => `${p.option}: ${p.message}`).join('; '),
          ...(preview ? { preview } : {}),
        }),
        422,
      );
    }
    const job = startImport([name], options);
    return reply.redirect(`/import/jobs/${job.id}`, 303);
  });

  const startImport = (names: string[], options: ImportOptionsInput): ImportJob =>
    jobs.start(
      names,
      async (onProgress) => {
        try {
          return inImportFolder(
            (await importFiles(options, deps.importSink, onProgress)) as unknown as JobSummary,
            dir,
          );
        } catch (error) {
          // The job page shows the message and how far it got: neither names the server's paths.
          if (error instanceof Error) {
            error.message = withoutFolder(error.message, dir);
            const partial = (error as { summary?: JobSummary }).summary;
            if (partial && Array.isArray(partial.files))
              (error as { summary?: JobSummary }).summary = inImportFolder(partial, dir);
          }
          throw error;
        }
      },
      (job) => {
        importsTotal.inc({ outcome: job.state === 'done' ? 'done' : 'failed' });
        if (job.summary) {
          importRows.inc({ outcome: 'sent' }, job.summary.rowsSent);
          importRows.inc({ outcome: 'rejected' }, job.summary.rowsRejected);
        }
        if (job.state === 'failed') logger.error({ job: job.id, error: job.error }, 'import job failed');
        else logger.info({ job: job.id, rowsSent: job.summary?.rowsSent }, 'import job finished');
      },
    );

  app.get('/import/jobs/:id', async (req, reply) => {
    const job = jobs.get((req.params as { id: string }).id);
    if (!job)
      return sendHtml(reply, errorPage('Import job', 'No such job (the console may have restarted).'), 404);
    return sendHtml(reply, importJobPage(job));
  });
  app.get('/api/import/jobs/:id', async (req, reply) => {
    const job = jobs.get((req.params as { id: string }).id);
    return job ?? reply.code(404).send({ error: 'no such job' });
  });
  app.get('/api/import/jobs/:id/events', async (req: FastifyRequest, reply) => {
    const job = jobs.get((req.params as { id: string }).id);
    if (!job) return reply.code(404).send({ error: 'no such job' });
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-content-type-options': 'nosniff',
    });
    let last = 0;
    let pending: NodeJS.Timeout | undefined;
    const send = () => {
      pending = undefined;
      last = Date.now();
      res.write(`event: ${job.state === 'running' ? 'progress' : 'end'}\ndata: ${JSON.stringify(job)}\n\n`);
      if (job.state !== 'running') close();
    };
    // At most ~5 updates a second to the browser, but the final state always goes out at once.
    const onEvent = () => {
      if (job.state !== 'running') {
        clearTimeout(pending);
        send();
      } else if (pending === undefined) pending = setTimeout(send, Math.max(0, 200 - (Date.now() - last)));
    };
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    const close = () => {
      clearInterval(keepAlive);
      clearTimeout(pending);
      jobs.events.off(job.id, onEvent);
      res.end();
    };
    jobs.events.on(job.id, onEvent);
    req.raw.on('close', close);
    send();
  });

  // ---- query ----
  const env = config as unknown as ToolsEnv;
  // The page and the API share the cap: each DuckDB query holds the archive in this process's memory.
  const busy = 'Two queries are already running; try again shortly.';
  const consoleQuery = async (sql: string, engine: Engine | undefined) => {
    queriesRunning++;
    try {
      return await runConsoleQuery(env, sql, {
        ...(engine ? { engine } : {}),
        limit: config.CONSOLE_QUERY_MAX_ROWS,
        timeoutMs: config.CONSOLE_QUERY_TIMEOUT_MS,
        memoryMb: config.CONSOLE_QUERY_MEMORY_MB,
      });
    } finally {
      queriesRunning--;
    }
  };
  const runQueryPage = async (reply: FastifyReply, body: Form) => {
    const sql = one(body.sql) || EXAMPLE_SQL;
    const engineText = one(body.engine);
    const engine = engineText === 'athena' || engineText === 'duckdb' ? engineText : undefined;
    const common = { sql, engine: engineText, defaultEngine: defaultEngine(env) };
    if (queriesRunning >= MAX_QUERIES_RUNNING)
      return sendHtml(reply, queryPage({ ...common, error: busy }), 429);
    try {
      const result = await consoleQuery(sql, engine);
      const x =
        result.columns.find((c) => /^(ts|time|minute|hour|day|bucket)$/i.test(c)) ?? result.columns[0];
      const y = result.columns.find(
        (c, i) => c !== x && result.rows.some((r) => r[i] !== null && Number.isFinite(Number(r[i]))),
      );
      return sendHtml(reply, queryPage({ ...common, result, ...(x ? { x } : {}), ...(y ? { y } : {}) }));
    } catch (error) {
      return sendHtml(reply, queryPage({ ...common, error: (error as Error).message }), 400);
    }
  };
  app.get('/query', async (_req, reply) =>
    sendHtml(reply, queryPage({ sql: EXAMPLE_SQL, engine: '', defaultEngine: defaultEngine(env) })),
  );
  app.post('/query', async (req, reply) => runQueryPage(reply, (req.body ?? {}) as Form));
  app.post('/api/query', async (req, reply) => {
    const body = (req.body ?? {}) as { sql?: unknown; engine?: unknown };
    if (typeof body.sql !== 'string' || body.sql.trim() === '')
      return reply.code(400).send({ error: 'sql is required' });
    const engine = body.engine === 'athena' || body.engine === 'duckdb' ? body.engine : undefined;
    if (queriesRunning >= MAX_QUERIES_RUNNING) return reply.code(429).send({ error: busy });
    try {
      return await consoleQuery(body.sql, engine);
    } catch (error) {
      return reply.code(400).send({ error: (error as Error).message });
    }
  });

  return app;
}
