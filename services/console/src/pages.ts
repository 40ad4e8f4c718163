import { type FilePreview, TIME_FORMATS } from '@gridstream/importer';
import type { AlarmEvent } from '@gridstream/schema';
import type { ConsoleQueryResult } from './archive-query.js';
import type { DeadLetterPage, DeadLetterView } from './dead-letters.js';
import { html, jsonForScript, type SafeHtml } from './html.js';
import type { ImportFileInfo } from './import-folder.js';
import type { ImportJob } from './import-jobs.js';

/** Server-rendered pages. Every value from outside goes through `html` (escaped); scripts are files. */

const NAV: [string, string][] = [
  ['/pipeline', 'Pipeline'],
  ['/dead-letters', 'Dead letters'],
  ['/import', 'Import'],
  ['/query', 'Query'],
  ['/alarms', 'Alarms'],
];

export function layout(
  title: string,
  active: string,
  body: SafeHtml,
  options: { scripts?: string[]; data?: unknown } = {},
): string {
  const scripts = options.scripts ?? [];
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · gridstream console</title>
<link rel="stylesheet" href="/static/console.css">
${scripts.includes('/static/uplot.js') ? html`<link rel="stylesheet" href="/static/uplot.css">` : ''}
</head>
<body>
<header>
<strong class="brand">gridstream</strong>
<nav>${NAV.map(([href, label]) => html`<a href="${href}" class="${href === active ? 'active' : ''}">${label}</a>`)}</nav>
<form method="post" action="/logout" class="logout"><button type="submit">Log out</button></form>
</header>
<main>
<h1>${title}</h1>
${body}
</main>
${options.data === undefined ? '' : html`<script type="application/json" id="page-data">${jsonForScript(options.data)}</script>`}
<script src="/static/console.js"></script>
${scripts.map((s) => html`<script src="${s}"></script>`)}
</body>
</html>`.value;
}

export function loginPage(options: { error?: string; next: string }): string {
  return html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Log in · gridstream console</title>
<style>body{font-family:system-ui,sans-serif;display:flex;justify-content:center;margin-top:15vh;background:#f4f6f8}
form{background:#fff;padding:2em;border-radius:8px;box-shadow:0 1px 4px #0002;min-width:18em}
input,button{font-size:1em;padding:.4em;width:100%;box-sizing:border-box;margin-top:.5em}.error{color:#b00020}</style>
</head>
<body>
<form method="post" action="/login">
<h1>gridstream console</h1>
${options.error ? html`<p class="error" id="login-error">${options.error}</p>` : ''}
<input type="hidden" name="next" value="${options.next}">
<label>Password <input type="password" name="password" id="password" autocomplete="current-password" autofocus required></label>
<button type="submit" id="login">Log in</button>
</form>
</body>
</html>`.value;
}

export function pipelinePage(): string {
  const body = html`
<section class="grid">
<div class="card wide"><h2>Services</h2>
<table id="services"><thead><tr><th>Service</th><th>State</th><th>In /s</th><th>Out /s</th><th>Dead letters /s</th><th>Details</th></tr></thead><tbody><tr><td colspan="6">loading…</td></tr></tbody></table>
<p class="muted">Updated <span id="updated">never</span>. Rates are counter differences between two polls of each service's /metrics.</p>
</div>
<div class="card"><h2>Dead letters</h2><p class="big" id="dlq-size">–</p><p class="muted">letters on <span id="dlq-topic"></span>; <span id="replays">0</span> replayed by this console. <a href="/dead-letters">Open</a></p></div>
<div class="card"><h2>Active alarms</h2><div id="alarms-box">–</div><p><a href="/alarms">All alarms</a></p></div>
<div class="card wide"><h2>Throughput (last hour)</h2><div id="chart"></div></div>
<div class="card wide"><h2>Consumer lag</h2><table id="lag"><thead><tr><th>Service</th><th>Group</th><th>Topic</th><th>Partition</th><th>Committed</th><th>High</th><th>Lag</th></tr></thead><tbody></tbody></table></div>
</section>`;
  return layout('Pipeline', '/pipeline', body, { scripts: ['/static/uplot.js', '/static/pipeline.js'] });
}

function excerpt(payload: Buffer, max = 160): string {
  const text = payload.subarray(0, max * 4).toString('utf8');
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export function deadLettersPage(
  page: DeadLetterPage,
  options: { flash?: string; size: number; replays: number },
): string {
  const rows = page.items.map(
    (d) => html`<tr data-id="${d.partition}/${d.offset}" class="${d.replayed ? 'replayed' : ''}">
<td><input type="checkbox" name="ids" value="${d.partition}/${d.offset}" form="replay-form"></td>
<td><a href="/dead-letters/${d.partition}/${d.offset}">${d.partition}/${d.offset}</a></td>
<td>${d.at}</td><td>${d.stage}</td><td><code>${d.reason}</code></td><td>${d.message}</td>
<td><code class="excerpt">${excerpt(d.payload)}</code></td>
<td>${d.replayed ? html`<span class="badge ok" title="${d.replayed.replayedAt}">replayed</span>` : ''}</td></tr>`,
  );
  const body = html`
${options.flash ? html`<p class="flash" id="flash">${options.flash}</p>` : ''}
<p>${page.total} letter(s) on the topic; ${options.replays} replayed by this console since it started. Newest first.</p>
<form method="post" action="/dead-letters/replay" id="replay-form">
<button type="submit" id="replay">Replay selected to the raw topic</button>
<span class="muted">The original payload and headers are republished (minus gs-dlq-*, plus gs-replayed-from). The letter stays on the DLQ.</span>
</form>
<table id="letters"><thead><tr><th></th><th>Partition/offset</th><th>Dead-lettered at</th><th>Stage</th><th>Reason</th><th>Message</th><th>Payload</th><th></th></tr></thead>
<tbody>${rows.length > 0 ? rows : html`<tr><td colspan="8">No dead letters.</td></tr>`}</tbody></table>
${page.next ? html`<p><a id="older" href="/dead-letters?before=${page.next}&amp;size=${options.size}">Older →</a></p>` : ''}`;
  return layout('Dead letters', '/dead-letters', body);
}

function prettyPayload(payload: Buffer): string {
  const text = payload.toString('utf8');
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

export function deadLetterPage(d: DeadLetterView): string {
  const body = html`
<p><a href="/dead-letters">← all dead letters</a></p>
<dl class="facts">
<dt>Partition / offset</dt><dd>${d.partition} / ${d.offset}</dd>
<dt>Stage</dt><dd>${d.stage}</dd><dt>Reason</dt><dd><code>${d.reason}</code></dd>
<dt>Message</dt><dd id="reason-message">${d.message}</dd><dt>Dead-lettered at</dt><dd>${d.at}</dd>
<dt>Key</dt><dd><code>${d.key ?? '(none)'}</code></dd>
<dt>Size</dt><dd>${d.size} bytes${d.truncated ? ' (only the first bytes are kept: this letter cannot be replayed)' : ''}</dd>
<dt>Replayed</dt><dd>${d.replayed ? `yes, ${d.replayed.replayedAt} → ${d.replayed.rawTopic}` : 'no'}</dd>
</dl>
${
  d.problems.length > 0
    ? html`<h2>Problems</h2><table><thead><tr><th>Reason</th><th>Path</th><th>Message</th></tr></thead><tbody>${d.problems.map(
        (p) =>
          html`<tr><td><code>${p.reason}</code></td><td><code>${p.path}</code></td><td>${p.message}</td></tr>`,
      )}</tbody></table>`
    : ''
}
<h2>Headers</h2>
<table><tbody>${Object.entries(d.headers).map(([k, v]) => html`<tr><th><code>${k}</code></th><td><code>${v}</code></td></tr>`)}</tbody></table>
<h2>Payload</h2>
<pre id="payload">${prettyPayload(d.payload)}</pre>
<form method="post" action="/dead-letters/replay">
<input type="hidden" name="ids" value="${d.partition}/${d.offset}">
${d.truncated ? '' : html`<details><summary>Edit the payload before replaying (optional)</summary><textarea name="payload" rows="12" cols="100">${d.payload.toString('utf8')}</textarea><input type="hidden" name="edit" value="1"></details>`}
<button type="submit">Replay this letter</button>
</form>`;
  return layout(`Dead letter ${d.partition}/${d.offset}`, '/dead-letters', body);
}

const fmtBytes = (n: number) =>
  n >= 1024 ** 3
    ? `${(n / 1024 ** 3).toFixed(2)} GiB`
    : n >= 1024 ** 2
      ? `${(n / 1024 ** 2).toFixed(1)} MiB`
      : `${(n / 1024).toFixed(1)} KiB`;

export function importPage(options: {
  files: ImportFileInfo[];
  jobs: ImportJob[];
  maxBytes: number;
  error?: string;
}): string {
  const body = html`
${options.error ? html`<p class="error" id="import-error">${options.error}</p>` : ''}
<div class="card"><h2>Upload a file</h2>
<form method="post" action="/import/upload" enctype="multipart/form-data" id="upload-form">
<input type="file" name="file" accept=".csv,.xlsx,.tsv,.txt" required id="upload-file">
<button type="submit" id="upload">Upload</button>
<p class="muted">CSV or XLSX, at most ${fmtBytes(options.maxBytes)}. Stored in the import folder under a generated name.</p>
</form></div>
<div class="card"><h2>Files in the import folder</h2>
<table id="import-files"><thead><tr><th>File</th><th>Size</th><th>Modified</th></tr></thead><tbody>
${options.files.length === 0 ? html`<tr><td colspan="3">No files yet.</td></tr>` : options.files.map((f) => html`<tr><td><a href="/import/file?name=${encodeURIComponent(f.name)}">${f.name}</a></td><td>${fmtBytes(f.size)}</td><td>${f.modified}</td></tr>`)}
</tbody></table></div>
${
  options.jobs.length > 0
    ? html`<div class="card"><h2>Import jobs</h2><table><thead><tr><th>Job</th><th>Files</th><th>State</th><th>Rows sent</th><th>Rejected</th><th>Started</th></tr></thead><tbody>
${options.jobs.map((j) => html`<tr><td><a href="/import/jobs/${j.id}">${j.id}</a></td><td>${j.files.join(', ')}</td><td>${j.state}</td><td>${j.progress.rowsSent}</td><td>${j.progress.rowsRejected}</td><td>${j.startedAt}</td></tr>`)}
</tbody></table></div>`
    : ''
}`;
  return layout('Import', '/import', body);
}

export function importFilePage(options: {
  name: string;
  form: Record<string, string>;
  preview?: FilePreview;
  error?: string;
  /** Just uploaded or opened: nothing chosen yet, so nothing is missing yet either. */
  firstVisit?: boolean;
}): string {
  const f = options.form;
  const columns = [
    ...new Set(options.preview?.tables.flatMap((t) => t.columns).filter((c) => c !== '') ?? []),
  ];
  const chosen = new Set((f.valueColumns ?? '').split('|').filter((s) => s !== ''));
  const body = html`
<p><a href="/import">← import folder</a></p>
${options.error ? html`<p class="error" id="import-error">${options.error}</p>` : ''}
<form method="post" action="/import/file" id="import-form">
<input type="hidden" name="name" value="${options.name}">
<fieldset><legend>Columns</legend>
<label>Time column <select name="timeColumn" id="timeColumn">${columns.map((c) => html`<option value="${c}" ${c === f.timeColumn ? 'selected' : ''}>${c}</option>`)}</select></label>
<label>Time format <select name="timeFormat">${TIME_FORMATS.map((t) => html`<option value="${t}" ${t === (f.timeFormat ?? 'auto') ? 'selected' : ''}>${t}</option>`)}</select></label>
<label>Zone <input name="timeZone" value="${f.timeZone ?? 'UTC'}" size="16"></label>
<p>Value columns:
${columns.map((c) => html`<label class="check"><input type="checkbox" name="valueColumn" value="${c}" ${chosen.has(c) ? 'checked' : ''}> ${c}</label>`)}
</p>
<label>or as <code>a|b|c</code> <input name="valueColumns" value="${f.valueColumns ?? ''}" size="40" id="valueColumns"></label>
</fieldset>
<fieldset><legend>Where the data goes</legend>
<label>Device-id column <select name="deviceColumn" id="deviceColumn"><option value="">(none: fixed id)</option>${columns.map((c) => html`<option value="${c}" ${c === f.deviceColumn ? 'selected' : ''}>${c}</option>`)}</select></label>
<label>Fixed device id <input name="device" value="${f.device ?? ''}" id="device"></label>
<label>Site <input name="site" value="${f.site ?? ''}" required id="site"></label>
<label>Measurement (equipment) <input name="equipment" value="${f.equipment ?? ''}" required id="equipment"></label>
<label>Encoding <select name="encoding">${['auto', 'utf-8', 'euc-kr', 'cp949'].map((e) => html`<option value="${e}" ${e === (f.encoding ?? 'auto') ? 'selected' : ''}>${e}</option>`)}</select></label>
</fieldset>
<button type="submit" name="action" value="preview" id="preview">Preview</button>
<button type="submit" name="action" value="run" id="run">Run import</button>
</form>
${options.preview ? previewBlock(options.preview, options.firstVisit === true) : ''}`;
  return layout(`Import ${options.name}`, '/import', body);
}

function previewBlock(p: FilePreview, firstVisit: boolean): SafeHtml {
  return html`<div class="card" id="preview-block"><h2>Preview</h2>
<p class="muted">${p.format}${p.encoding ? `, ${p.encoding}` : ''}. Nothing is sent by a preview.</p>
${firstVisit ? html`<p id="mapping-hint">Choose the time and value columns and where the data goes, then <b>Preview</b> to see the rows as they would be stored.</p>` : ''}
${!firstVisit && p.mappingProblems.length > 0 ? html`<ul class="warn" id="mapping-problems">${p.mappingProblems.map((x) => html`<li><code>${x.option}</code>: ${x.message}</li>`)}</ul>` : ''}
${p.tables.map(
  (t) => html`<h3>${t.sheet ? `Sheet ${t.sheet}` : 'First rows of the file'}</h3>
${t.error ? html`<p class="error">${t.error}</p>` : ''}
<div class="scroll"><table class="preview-rows"><thead><tr><th>Line</th>${t.columns.map((c) => html`<th>${c}</th>`)}</tr></thead>
<tbody>${t.rows.map((r) => html`<tr><td>${r.line}</td>${r.cells.map((c) => html`<td>${c}</td>`)}</tr>`)}</tbody></table></div>
${t.rejects.length > 0 ? html`<h4>Rows that would be rejected</h4><table class="rejects"><thead><tr><th>Line</th><th>Reason</th><th>Detail</th></tr></thead><tbody>${t.rejects.map((r) => html`<tr><td>${r.line}</td><td><code>${r.reason}</code></td><td>${r.detail}</td></tr>`)}</tbody></table>` : ''}
${
  t.samples.length > 0
    ? html`<h4>As stored (samples.v1)</h4><pre class="preview-samples">${JSON.stringify(
        t.samples.map((s) => ({ line: s.line, ...s.sample })),
        null,
        2,
      )}</pre>`
    : ''
}`,
)}
</div>`;
}

export function importJobPage(job: ImportJob): string {
  const body = html`
<p><a href="/import">← import</a></p>
<p>Files: ${job.files.join(', ')}</p>
<div class="progress"><div class="bar" id="bar" style="width:0%"></div></div>
<p id="progress-text">waiting for the first report…</p>
<p id="job-state" class="state-${job.state}">${job.state}</p>
<div id="summary"></div>`;
  return layout('Import job', '/import', body, { scripts: ['/static/import-job.js'], data: { id: job.id } });
}

export function queryPage(options: {
  sql: string;
  engine: string;
  defaultEngine: string;
  result?: ConsoleQueryResult;
  error?: string;
  x?: string;
  y?: string;
}): string {
  const r = options.result;
  const body = html`
<form method="post" action="/query" id="query-form">
<textarea name="sql" rows="6" cols="100" id="sql">${options.sql}</textarea><br>
<label>Engine <select name="engine">${['', 'duckdb', 'athena'].map((e) => html`<option value="${e}" ${e === options.engine ? 'selected' : ''}>${e === '' ? `default (${options.defaultEngine})` : e}</option>`)}</select></label>
<button type="submit" id="run-query">Run</button>
<span class="muted">Table <code>telemetry</code> (ts, site, equipment, device, rack, field, value, is_flag, quality, …, dt).</span>
</form>
${options.error ? html`<p class="error" id="query-error">${options.error}</p>` : ''}
${
  r
    ? html`<p class="muted" id="query-info">${r.rows.length} row(s)${r.cut ? ' (cut at the row limit)' : ''} from ${r.engine}${r.files === undefined ? '' : ` over ${r.files} file(s)`} in ${r.ms} ms.</p>
${
  r.rows.length === 0
    ? html`<p class="empty" id="query-empty">No rows: the query ran and nothing in the archive matched it${r.files === 0 ? ' (the archive has no files yet)' : ''}.</p>`
    : html`<div class="card"><h2>Chart</h2>
<label>Time column <select id="chart-x">${r.columns.map((c) => html`<option ${c === options.x ? 'selected' : ''}>${c}</option>`)}</select></label>
<label>Value column <select id="chart-y">${r.columns.map((c) => html`<option ${c === options.y ? 'selected' : ''}>${c}</option>`)}</select></label>
<div id="query-chart"></div></div>`
}
<div class="scroll"><table id="results"><thead><tr>${r.columns.map((c) => html`<th>${c}</th>`)}</tr></thead>
<tbody>${r.rows.map((row) => html`<tr>${row.map((v) => html`<td class="${v === null ? 'null' : ''}">${v ?? 'NULL'}</td>`)}</tr>`)}</tbody></table></div>`
    : ''
}`;
  return layout('Query the archive', '/query', body, {
    scripts: ['/static/uplot.js', '/static/query.js'],
    data: r ? { columns: r.columns, rows: r.rows } : null,
  });
}

export function alarmsTable(alarms: (AlarmEvent & { key: string })[]): SafeHtml {
  if (alarms.length === 0) return html`<p id="no-alarms">No active alarms.</p>`;
  // In a scroll box: ten columns overflowed the pipeline page's card.
  return html`<div class="scroll"><table id="alarms"><thead><tr><th>Level</th><th>Site</th><th>Equipment / device</th><th>Rule</th><th>Field</th><th>Value</th><th>Threshold</th><th>Raised</th><th>Last event</th><th>Message</th></tr></thead><tbody>
${alarms.map((a) => html`<tr class="level-${a.level}"><td><span class="badge ${a.level}">${a.level}</span></td><td>${a.site}</td><td>${a.equipment} / ${a.device}${a.rack ? ` / rack ${a.rack}` : ''}</td><td><code>${a.rule}</code></td><td>${a.field}</td><td>${a.value ?? '–'}</td><td>${a.threshold ?? '–'}</td><td>${a.raisedAt}</td><td>${a.state} ${a.ts}</td><td>${a.message}</td></tr>`)}
</tbody></table></div>`;
}

export function alarmsPage(alarms: (AlarmEvent & { key: string })[], topic: string, invalid: number): string {
  const body = html`<p class="muted">Latest event per alarm on <code>${topic}</code>; active = last state is not cleared.${invalid > 0 ? ` ${invalid} unreadable event(s) skipped.` : ''}</p>
${alarmsTable(alarms)}`;
  return layout('Active alarms', '/alarms', body);
}

export function errorPage(title: string, message: string): string {
  return layout(title, '', html`<p class="error">${message}</p>`);
}
