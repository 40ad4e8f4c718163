import type { AlarmAction } from '@gridstream/schema';
import type { AlarmHistory, AlarmView } from './alarm-board.js';
import { html, type SafeHtml } from './html.js';
import { layout } from './pages.js';

/** The alarms pages (active, shelved, one alarm's history) and the alarms table the pipeline page shows. */

/** Shelf times offered on the form, in minutes (the configured maximum caps them). */
const SHELF_CHOICES = [15, 60, 240, 480, 720, 1_440, 10_080];

const where = (a: AlarmView) => `${a.equipment} / ${a.device}${a.rack ? ` / rack ${a.rack}` : ''}`;
const historyHref = (key: string) => `/alarms/history?key=${encodeURIComponent(key)}`;
const minutesLabel = (m: number) => (m % 60 === 0 ? `${m / 60} h` : `${m} min`);

function handling(a: AlarmView): SafeHtml {
  return a.acknowledged
    ? html`<span class="acked" title="${a.acknowledged.comment}">acknowledged by ${a.acknowledged.by} at ${a.acknowledged.at}</span>`
    : html`<span class="badge unacked">unacknowledged</span>`;
}

/** One action form: a button that posts the alarm's key and the action (plus what that action needs). */
function actionForms(a: AlarmView, maxShelveMinutes: number): SafeHtml {
  const hidden = html`<input type="hidden" name="key" value="${a.key}">`;
  return html`<div class="alarm-actions">
${
  a.acknowledged || a.state === 'cleared'
    ? ''
    : html`<form method="post" action="/alarms/actions" class="inline">${hidden}<input type="hidden" name="action" value="acknowledged"><button type="submit" class="ack">Acknowledge</button></form>`
}
<form method="post" action="/alarms/actions" class="inline">${hidden}<input type="hidden" name="action" value="shelved">
<select name="minutes" aria-label="shelve for">${SHELF_CHOICES.filter((m) => m <= maxShelveMinutes).map((m) => html`<option value="${m}">${minutesLabel(m)}</option>`)}</select>
<input name="comment" placeholder="why (required)" maxlength="1000" required aria-label="reason for shelving"><button type="submit" class="shelve">Shelve</button></form>
<a href="${historyHref(a.key)}" class="history">History</a>
</div>`;
}

/**
 * Active alarms. With `maxShelveMinutes` (the alarms page) each row carries its handling forms; without
 * (the pipeline page's summary) it only links to the alarms page.
 */
export function alarmsTable(alarms: AlarmView[], options: { maxShelveMinutes?: number } = {}): SafeHtml {
  if (alarms.length === 0) return html`<p id="no-alarms">No active alarms.</p>`;
  const forms = options.maxShelveMinutes;
  // In a scroll box: ten columns overflowed the pipeline page's card.
  return html`<div class="scroll"><table id="alarms"><thead><tr><th>Level</th><th>Site</th><th>Equipment / device</th><th>Rule</th><th>Field</th><th>Value</th><th>Threshold</th><th>Raised</th><th>Last event</th><th>Message</th><th>Handling</th></tr></thead><tbody>
${alarms.map((a) => html`<tr class="level-${a.level}" data-key="${a.key}"><td><span class="badge ${a.level}">${a.level}</span></td><td>${a.site}</td><td>${where(a)}</td><td><code>${a.rule}</code>${a.rule.startsWith('predicted_') ? html` <span class="badge predicted" title="raised by the forecaster: a forecast passes this level">predicted</span>` : ''}</td><td>${a.field}</td><td>${a.value ?? '–'}</td><td>${a.threshold ?? '–'}</td><td>${a.raisedAt}</td><td>${a.state} ${a.ts}</td><td>${a.message}</td><td>${handling(a)}${forms === undefined ? html` <a href="/alarms">handle</a>` : actionForms(a, forms)}</td></tr>`)}
</tbody></table></div>`;
}

function shelvedTable(alarms: AlarmView[]): SafeHtml {
  if (alarms.length === 0) return html`<p id="no-shelved">No shelved alarms.</p>`;
  return html`<div class="scroll"><table id="shelved"><thead><tr><th>Level</th><th>Site</th><th>Equipment / device</th><th>Rule</th><th>State</th><th>Shelved by</th><th>Until</th><th>Why</th><th></th></tr></thead><tbody>
${alarms.map(
  (
    a,
  ) => html`<tr data-key="${a.key}"><td><span class="badge ${a.level}">${a.level}</span></td><td>${a.site}</td><td>${where(a)}</td><td><code>${a.rule}</code></td><td>${a.state}</td><td>${a.shelved!.by} at ${a.shelved!.at}</td><td>${a.shelved!.until}</td><td>${a.shelved!.comment}</td>
<td><form method="post" action="/alarms/actions" class="inline"><input type="hidden" name="key" value="${a.key}"><input type="hidden" name="action" value="unshelved"><button type="submit" class="unshelve">Unshelve</button></form> <a href="${historyHref(a.key)}" class="history">History</a></td></tr>`,
)}
</tbody></table></div>`;
}

export function alarmsPage(options: {
  active: AlarmView[];
  shelved: AlarmView[];
  topic: string;
  invalid: number;
  maxShelveMinutes: number;
  notice?: string;
  error?: string;
}): string {
  const body = html`<p class="muted">Latest event per alarm on <code>${options.topic}</code>; active = last state is not cleared. Acknowledging, shelving and comments are kept on the alarm-actions topic with who and when.${options.invalid > 0 ? ` ${options.invalid} unreadable event(s) skipped.` : ''}</p>
${options.notice ? html`<p class="notice" id="alarm-notice">${options.notice}</p>` : ''}
${options.error ? html`<p class="error" id="alarm-error">${options.error}</p>` : ''}
<div class="card"><h2>Active</h2>${alarmsTable(options.active, { maxShelveMinutes: options.maxShelveMinutes })}</div>
<div class="card"><h2>Shelved</h2>${shelvedTable(options.shelved)}</div>`;
  return layout('Alarms', '/alarms', body);
}

const ACTION_WORDS: Record<AlarmAction['action'], string> = {
  acknowledged: 'acknowledged',
  shelved: 'shelved',
  unshelved: 'unshelved',
  commented: 'commented',
};

export function alarmHistoryPage(h: AlarmHistory): string {
  const a = h.latest;
  const body = html`<p><a href="/alarms">← alarms</a></p>
<p><span class="badge ${a.level}">${a.level}</span> <b>${a.site}</b> ${where(a)} · <code>${a.rule}</code> on ${a.field} · now <b id="history-state">${a.state}</b>${a.shelved ? html` · shelved until ${a.shelved.until}` : ''} · ${handling(a)}</p>
<div class="card"><h2>Comment</h2>
<form method="post" action="/alarms/actions" id="comment-form"><input type="hidden" name="key" value="${h.key}"><input type="hidden" name="action" value="commented"><input type="hidden" name="back" value="history">
<input name="comment" maxlength="1000" required size="80" id="comment" aria-label="comment"> <button type="submit" id="add-comment">Add comment</button></form></div>
<div class="card"><h2>Operator actions</h2>
${
  h.actions.length === 0
    ? html`<p id="no-actions">No actions yet.</p>`
    : html`<table id="actions"><thead><tr><th>When</th><th>Who</th><th>Action</th><th>Episode</th><th>Comment</th></tr></thead><tbody>
${h.actions.map((x) => html`<tr><td>${x.at}</td><td>${x.by}</td><td>${ACTION_WORDS[x.action]}${x.shelvedUntil ? ` until ${x.shelvedUntil}` : ''}${x.level ? ` (${x.level})` : ''}</td><td><code>${x.episode ?? ''}</code></td><td>${x.comment}</td></tr>`)}
</tbody></table>`
}</div>
<div class="card"><h2>Events</h2>
<div class="scroll"><table id="events"><thead><tr><th>Time</th><th>State</th><th>Level</th><th>Value</th><th>Threshold</th><th>Episode</th><th>Message</th></tr></thead><tbody>
${h.events.map((e) => html`<tr class="level-${e.level}"><td>${e.ts}</td><td>${e.state}</td><td>${e.level}</td><td>${e.value ?? '–'}</td><td>${e.threshold ?? '–'}</td><td><code>${e.id}</code></td><td>${e.message}</td></tr>`)}
</tbody></table></div></div>`;
  return layout(`Alarm ${a.rule} · ${a.device}`, '/alarms', body);
}
