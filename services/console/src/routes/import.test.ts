import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkImportOptions } from '@gridstream/importer';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainProblems } from '../import-pages.js';
import { offlineConsoleApp } from '../offline-app.fixture.js';

/**
 * The import form's first visit (pre-filled from the file, no problem list) and its messages after
 * Preview/Run (plain sentences naming the form's fields). No Kafka: nothing here runs an import.
 */
const PASSWORD = 'import form test password';
const ORIGIN = { host: 'localhost:80', origin: 'http://localhost:80' };
const FORM = { ...ORIGIN, 'content-type': 'application/x-www-form-urlencoded' };
let app: FastifyInstance;
let dir: string;
let cookie: string;

/** The shape of the browser test's file: a time, a meter id, two numeric columns. */
const METERS = [
  'time,meter,voltage,current',
  '2026-02-01 00:00:00,m0,230,0',
  '2026-02-01 00:00:01,m1,230.1,1',
  '2026-02-01 00:00:02,m0,230.2,2',
  '',
].join('\n');
/** An upload's generated name (see uploadName): the client's stem comes after the stamp and the random part. */
const STORED = '20260201-101500-1a2b3c4d-meters.csv';
const HINT =
  'Detected time column time (format YYYY-MM-DD HH:mm:ss), 2 numeric value columns, device column meter and ' +
  'measurement meters from the file name — check and Preview.';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gs-console-import-'));
  ({ app } = await offlineConsoleApp({
    CONSOLE_PASSWORD: PASSWORD,
    CONSOLE_IMPORT_DIR: join(dir, 'imports'),
    ARCHIVE_DIR: join(dir, 'archive'),
    ARCHIVE_CACHE_DIR: join(dir, 'archive-cache'),
  }));
  await mkdir(join(dir, 'imports'), { recursive: true });
  await writeFile(join(dir, 'imports', STORED), METERS);
  const res = await app.inject({
    method: 'POST',
    url: '/login',
    headers: FORM,
    payload: `password=${encodeURIComponent(PASSWORD)}&next=%2Fimport`,
  });
  expect(res.statusCode).toBe(303);
  cookie = String(res.headers['set-cookie']).split(';')[0]!;
});
afterAll(async () => {
  await app?.close();
  await rm(dir, { recursive: true, force: true });
});

const open = (name: string) =>
  app.inject({ method: 'GET', url: `/import/file?name=${name}`, headers: { cookie } });
const submit = (fields: Record<string, string | string[]>) => {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) body.append(k, one);
  return app.inject({
    method: 'POST',
    url: '/import/file',
    headers: { ...FORM, cookie },
    payload: body.toString(),
  });
};
/** The text of the problem list, one entry per sentence. */
const problemsIn = (page: string) =>
  [
    ...(/<div class="card" id="mapping-problems">([\s\S]*?)<\/div>/.exec(page)?.[1] ?? '').matchAll(
      /<li>(.*?)<\/li>/g,
    ),
  ].map((m) => m[1]);
/** The completed form for the meters file (what the pre-fill gives plus the site). */
const complete = {
  name: STORED,
  timeColumn: 'time',
  timeFormat: 'YYYY-MM-DD HH:mm:ss',
  timeZone: 'UTC',
  valueColumn: ['voltage', 'current'],
  valueColumns: '',
  deviceColumn: 'meter',
  device: '',
  site: 'site-1',
  equipment: 'meters',
  encoding: 'auto',
};

describe('import form, first visit', () => {
  it('is filled from the file: time column and format, numeric columns ticked, device column, equipment from the name', async () => {
    const res = await open(STORED);
    expect(res.statusCode).toBe(200);
    const page = res.body;
    expect(page).toContain(`<p class="flash" id="mapping-hint">${HINT}</p>`);
    expect(page).toContain('<option value="time" selected>time</option>');
    expect(page).toContain('<option value="YYYY-MM-DD HH:mm:ss" selected>YYYY-MM-DD HH:mm:ss</option>');
    expect(page).toContain('<input type="checkbox" name="valueColumn" value="voltage" checked>');
    expect(page).toContain('<input type="checkbox" name="valueColumn" value="current" checked>');
    expect(page).toContain('<input type="checkbox" name="valueColumn" value="meter" >');
    expect(page).toContain('<input name="valueColumns" value="" size="40" id="valueColumns">');
    expect(page).toContain('<option value="meter" selected>meter</option>');
    expect(page).toContain('<input name="equipment" value="meters" required id="equipment">');
    expect(page).toContain('<input name="site" value="" required id="site">');
    // Nothing is "missing" before the user could act: no problem list, no zod words.
    expect(page).not.toContain('mapping-problems');
    expect(page).not.toContain('Invalid input');
  });

  it('after an upload the redirect lands on the same pre-filled form', async () => {
    const boundary = '----gridstream-import-test';
    const res = await app.inject({
      method: 'POST',
      url: '/import/upload',
      headers: { ...ORIGIN, cookie, 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload:
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="meters.csv"\r\n` +
        `Content-Type: text/csv\r\n\r\n${METERS}\r\n--${boundary}--\r\n`,
    });
    expect(res.statusCode).toBe(303);
    const name = decodeURIComponent(String(res.headers.location).replace('/import/file?name=', ''));
    expect(name).toMatch(/^\d{8}-\d{6}-[0-9a-f]{8}-meters\.csv$/);
    expect(await readdir(join(dir, 'imports'))).toContain(name);
    const page = (await open(encodeURIComponent(name))).body;
    expect(page).toContain(HINT);
    expect(page).not.toContain('mapping-problems');
  });

  it('says plainly when nothing can be detected, and leaves the time column unchosen', async () => {
    await writeFile(join(dir, 'imports', 'notes.csv'), 'note,comment\nok,first\nlate,second\nx,y\n');
    const page = (await open('notes.csv')).body;
    expect(page).toContain(
      '<p class="flash" id="mapping-hint">Detected no time column, no numeric value columns, no device column ' +
        '(give a fixed device id) and measurement notes from the file name — check and Preview.</p>',
    );
    expect(page).toContain('<option value="">(choose)</option><option value="note" >note</option>');
    expect(page).not.toContain('mapping-problems');
  });
});

describe('import form messages after Preview or Run', () => {
  it('Preview of the completed form: no problems, the rows as stored', async () => {
    const res = await submit({ ...complete, action: 'preview' });
    expect(res.statusCode).toBe(200);
    expect(problemsIn(res.body)).toEqual([]);
    expect(res.body).not.toContain('mapping-hint');
    expect(res.body).toContain('&quot;device&quot;: &quot;m1&quot;');
  });

  it('Preview with the time column and the site emptied: a plain sentence for each, naming the field', async () => {
    const res = await submit({ ...complete, timeColumn: '', site: '', action: 'preview' });
    expect(res.statusCode).toBe(200);
    expect(problemsIn(res.body)).toEqual(['Choose the time column.', 'Type the site id.']);
    expect(res.body).not.toContain('Invalid input');
    expect(res.body).not.toContain('<code>timeColumn</code>');
  });

  it('Run with the value columns unticked and the measurement emptied: refused, in plain words', async () => {
    const res = await submit({ ...complete, valueColumn: [], equipment: '', action: 'run' });
    expect(res.statusCode).toBe(422);
    expect(res.body).toContain(
      '<p class="error" id="import-error">Nothing was imported: fix what is listed below the form first.</p>',
    );
    expect(problemsIn(res.body)).toEqual([
      'Tick at least one value column.',
      'Type the measurement (equipment) name, e.g. vehicle.',
    ]);
    expect(res.body).not.toContain('Invalid input');
    expect(res.body).not.toContain('choose at least one value column');
  });

  it('a wrong zone, a measurement not in snake case, both device fields, an unknown encoding', async () => {
    const res = await submit({
      ...complete,
      timeZone: 'Mars/Olympus',
      equipment: 'Meter Data',
      device: 'm9',
      action: 'run',
    });
    expect(res.statusCode).toBe(422);
    expect(problemsIn(res.body)).toEqual([
      'Zone &quot;Mars/Olympus&quot; is not a time zone: type a name such as UTC or Asia/Seoul.',
      'The measurement (equipment) name must be lower case letters, digits and _, e.g. meter_data.',
      'Choose either a device-id column or a fixed device id, not both.',
    ]);
    const encoding = await submit({ ...complete, encoding: 'latin-1', action: 'preview' });
    expect(encoding.statusCode).toBe(422);
    expect(problemsIn(encoding.body)).toEqual(['Choose an encoding from the list.']);
    expect(encoding.body).not.toContain('Invalid option');
  });
});

describe('plainProblems', () => {
  it('has a sentence of its own for every problem the importer reports for an empty form', () => {
    const { problems } = checkImportOptions({ files: ['x.csv'], timeFormat: 'hh', valueColumns: [] });
    expect(problems.map((p) => p.option).sort()).toEqual([
      'deviceColumn',
      'equipment',
      'site',
      'timeColumn',
      'timeFormat',
      'valueColumns',
    ]);
    expect(plainProblems(problems, {})).toEqual([
      'Choose the time column.',
      'Choose a time format from the list (auto reads every format the importer knows).',
      'Tick at least one value column.',
      'Type the site id.',
      'Type the measurement (equipment) name, e.g. vehicle.',
      'Choose the device-id column, or type a fixed device id if the file has none.',
    ]);
  });
});
