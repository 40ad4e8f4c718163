import {
  type FilePreview,
  type MappingSuggestion,
  type OptionProblem,
  TIME_FORMATS,
  toEquipmentName,
} from '@gridstream/importer';
import { html, type SafeHtml } from './html.js';
import type { ImportFileInfo } from './import-folder.js';
import type { ImportJob } from './import-jobs.js';
import { layout } from './pages.js';

/** The import pages: the folder and upload form, one file's mapping form and preview, a job's progress. */
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
  /**
   * Just uploaded or opened: nothing chosen by the user yet, so nothing is "missing" yet either; the form
   * holds what was detected (`suggestion`) and the page says so in one sentence.
   */
  firstVisit?: boolean;
  suggestion?: MappingSuggestion;
  /** What keeps the form from being an import (a refused Run); else the preview's mapping problems. */
  problems?: OptionProblem[];
}): string {
  const f = options.form;
  const columns = [
    ...new Set(options.preview?.tables.flatMap((t) => t.columns).filter((c) => c !== '') ?? []),
  ];
  const chosen = new Set((f.valueColumns ?? '').split('|').filter((s) => s !== ''));
  // The text box holds only names without a checkbox (typed ones), so unticking a box really drops it.
  const typed = [...chosen].filter((c) => !columns.includes(c)).join('|');
  const problems = options.firstVisit
    ? []
    : plainProblems(options.problems ?? options.preview?.mappingProblems ?? [], f);
  const body = html`
<p><a href="/import">← import folder</a></p>
${options.error ? html`<p class="error" id="import-error">${options.error}</p>` : ''}
${options.firstVisit && options.suggestion ? html`<p class="flash" id="mapping-hint">${detectionSentence(options.suggestion)}</p>` : ''}
<form method="post" action="/import/file" id="import-form">
<input type="hidden" name="name" value="${options.name}">
<fieldset><legend>Columns</legend>
<label>Time column <select name="timeColumn" id="timeColumn"><option value="">(choose)</option>${columns.map((c) => html`<option value="${c}" ${c === f.timeColumn ? 'selected' : ''}>${c}</option>`)}</select></label>
<label>Time format <select name="timeFormat" id="timeFormat">${TIME_FORMATS.map((t) => html`<option value="${t}" ${t === (f.timeFormat ?? 'auto') ? 'selected' : ''}>${t}</option>`)}</select></label>
<label>Zone <input name="timeZone" value="${f.timeZone ?? 'UTC'}" size="16"></label>
<p>Value columns:
${columns.map((c) => html`<label class="check"><input type="checkbox" name="valueColumn" value="${c}" ${chosen.has(c) ? 'checked' : ''}> ${c}</label>`)}
</p>
<label>or as <code>a|b|c</code> <input name="valueColumns" value="${typed}" size="40" id="valueColumns"></label>
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
${problems.length > 0 ? html`<div class="card" id="mapping-problems"><p>Before this file can be imported:</p><ul class="warn">${problems.map((m) => html`<li>${m}</li>`)}</ul></div>` : ''}
${options.preview ? previewBlock(options.preview) : ''}`;
  return layout(`Import ${options.name}`, '/import', body);
}

function previewBlock(p: FilePreview): SafeHtml {
  return html`<div class="card" id="preview-block"><h2>Preview</h2>
<p class="muted">${p.format}${p.encoding ? `, ${p.encoding}` : ''}. Nothing is sent by a preview.</p>
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

/**
 * The form's values with what was detected filled in where the user has set nothing (the first visit of a
 * file: the form is empty, so everything detected goes in).
 */
export function prefillForm(form: Record<string, string>, s: MappingSuggestion): Record<string, string> {
  const out = { ...form };
  const fill = (key: string, value: string | undefined) => {
    if (value !== undefined && value !== '' && (out[key] ?? '') === '') out[key] = value;
  };
  fill('timeColumn', s.timeColumn);
  if ((form.timeColumn ?? '') === '') fill('timeFormat', s.timeFormat);
  fill('valueColumns', s.valueColumns.join('|'));
  if ((out.device ?? '') === '') fill('deviceColumn', s.deviceColumn);
  fill('equipment', s.equipment);
  return out;
}

/** One plain sentence: what the form was filled with, e.g. "Detected time column time (format …), …". */
export function detectionSentence(s: MappingSuggestion): string {
  const n = s.valueColumns.length;
  if (s.timeColumn === undefined && n === 0 && s.deviceColumn === undefined && s.equipment === undefined)
    return 'Nothing could be detected from the first rows: choose the columns and where the data goes, then Preview.';
  const parts: string[] = [];
  if (s.timeColumn === undefined) parts.push('no time column');
  else if (s.unreadableTime === undefined) parts.push(`time column ${s.timeColumn} (format ${s.timeFormat})`);
  else if (s.timeFormat === undefined)
    parts.push(
      `time column ${s.timeColumn} by its name only ("${s.unreadableTime}" is not a time the importer can read)`,
    );
  else
    parts.push(
      `time column ${s.timeColumn} (format ${s.timeFormat}; "${s.unreadableTime}" in it is not a time, so such rows will be rejected)`,
    );
  parts.push(n === 0 ? 'no numeric value columns' : `${n} numeric value column${n === 1 ? '' : 's'}`);
  parts.push(
    s.deviceColumn === undefined
      ? 'no device column (give a fixed device id)'
      : `device column ${s.deviceColumn}`,
  );
  if (s.equipment !== undefined) parts.push(`measurement ${s.equipment} from the file name`);
  const last = parts.pop()!;
  return `Detected ${parts.join(', ')} and ${last} — check and Preview.`;
}

/**
 * The importer's option problems as sentences naming the form's fields. The importer's messages name
 * options (and some are zod's own words); the form has labels, so each option gets its own sentence,
 * worded from what the form holds.
 */
export function plainProblems(problems: readonly OptionProblem[], form: Record<string, string>): string[] {
  const value = (key: string) => (form[key] ?? '').trim();
  const sentence = (option: string): string => {
    switch (option) {
      case 'timeColumn':
        return 'Choose the time column.';
      case 'timeFormat':
        return 'Choose a time format from the list (auto reads every format the importer knows).';
      case 'timeZone':
        return `Zone "${value('timeZone')}" is not a time zone: type a name such as UTC or Asia/Seoul.`;
      case 'valueColumns':
        return value('valueColumns') === ''
          ? 'Tick at least one value column.'
          : 'A value column name is over 200 characters or has control characters: untick it.';
      case 'deviceColumn':
        return 'Choose the device-id column, or type a fixed device id if the file has none.';
      case 'device':
        return value('deviceColumn') !== '' && value('device') !== ''
          ? 'Choose either a device-id column or a fixed device id, not both.'
          : 'The fixed device id must be at most 128 characters, without control characters.';
      case 'site':
        return value('site') === ''
          ? 'Type the site id.'
          : 'The site id must be at most 128 characters, without control characters.';
      case 'equipment':
        return value('equipment') === ''
          ? 'Type the measurement (equipment) name, e.g. vehicle.'
          : `The measurement (equipment) name must be lower case letters, digits and _, e.g. ${toEquipmentName(value('equipment')) || 'vehicle'}.`;
      case 'encoding':
        return 'Choose an encoding from the list.';
      default:
        return 'The import settings are incomplete: check every field.';
    }
  };
  // `valueColumns.0` and the like: the form field is the first part.
  return [...new Set(problems.map((p) => sentence(p.option.split('.')[0]!)))];
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
