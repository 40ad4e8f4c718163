import type { AlarmEvent } from '@gridstream/schema';
import { html, type SafeHtml } from './html.js';
import { layout } from './pages.js';

/** The alarms page and the alarms table the pipeline page shows too. */
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
