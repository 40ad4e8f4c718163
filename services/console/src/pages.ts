import type { ConsoleQueryResult } from './archive-query.js';
import type { DeadLetterPage, DeadLetterView } from './dead-letters.js';
import { html, jsonForScript, type SafeHtml } from './html.js';

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
<label>Your name <input name="operator" id="operator" autocomplete="username" maxlength="64" placeholder="recorded with alarm actions"></label>
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

export function errorPage(title: string, message: string): string {
  return layout(title, '', html`<p class="error">${message}</p>`);
}
