import {
  ImportOptionsError,
  type ImportOptionsInput,
  importFiles,
  parseImportOptions,
  previewFile,
  suggestMapping,
} from '@gridstream/importer';
import { counter } from '@gridstream/kafka';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import {
  ImportPathError,
  listImportFolder,
  resolveImportFile,
  saveUpload,
  UploadTooLargeError,
} from '../import-folder.js';
import {
  type ImportJob,
  inImportFolder,
  type JobSummary,
  progressInImportFolder,
  withoutFolder,
} from '../import-jobs.js';
import { importFilePage, importJobPage, importPage, prefillForm } from '../import-pages.js';
import { errorPage } from '../pages.js';
import { type Form, many, one, type RouteOptions, sendHtml } from './shared.js';

/** The client's file name inside an upload's generated name (`20260201-101500-1a2b3c4d-meters.csv`). */
const uploadedAs = (name: string) => name.replace(/^\d{8}-\d{6}-[0-9a-f]{8}(?:-(?=.*\.)|(?=\.))/, '');

/** File import: upload into the import folder, preview with column choice, run, and follow the job. */
export const importRoutes: FastifyPluginAsync<RouteOptions> = async (app, deps) => {
  const { config, logger, jobs } = deps;
  const importsTotal = counter(deps.metrics, 'gridstream_console_imports_total', 'Import jobs by outcome', [
    'outcome',
  ]);
  const importRows = counter(
    deps.metrics,
    'gridstream_console_import_rows_total',
    'Imported rows by outcome',
    ['outcome'],
  );
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
      // The form starts from what the first rows show; the equipment from the name the client uploaded.
      const suggestion = suggestMapping(preview.tables[0], { fileName: uploadedAs(name) });
      return sendHtml(
        reply,
        importFilePage({ name, form: prefillForm({}, suggestion), preview, firstVisit: true, suggestion }),
      );
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
        // A bad source option (an encoding not in the list): said per field like the mapping's problems.
        if (error instanceof ImportOptionsError)
          return sendHtml(reply, importFilePage({ name, form, problems: error.problems }), 422);
        return sendHtml(
          reply,
          importFilePage({ name, form, error: `Cannot read the file: ${(error as Error).message}` }),
          422,
        );
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
          error: 'Nothing was imported: fix what is listed below the form first.',
          problems: error.problems,
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
            (await importFiles(options, deps.importSink, (p) =>
              onProgress(progressInImportFolder(p, dir)),
            )) as unknown as JobSummary,
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
};
