import { escapeTag, formatFloat, quoteStringValue, timestampMs } from '@gridstream/influx';
import type { AlarmAction, AlarmEvent } from '@gridstream/schema';

/** The measurement every alarm event goes to (the contract in docs/messages.md). */
export const ALARMS_MEASUREMENT = 'alarms';
/** The measurement operators' actions on alarms go to (acknowledged, shelved, unshelved, commented). */
export const ALARM_ACTIONS_MEASUREMENT = 'alarm_actions';

/**
 * One alarm event as one line (precision ms):
 *
 *   alarms,device=<d>,equipment=<e>,level=<l>[,rack=<r>],rule=<r>,site=<s>,state=<st>
 *     value=<float>,threshold=<float>,active=<bool>,message="…",id="…",raised_at_ms=<int>i <ts ms>
 *
 * - Series: at most rules × (sub)devices × 2 levels × 4 states — bounded by configuration, never by time;
 *   the episode id is a field, not a tag, because a tag per episode would grow series without limit.
 * - The point is (tags, event time): a redelivered event overwrites itself; two events of one episode
 *   differ in `state` (and usually in time), so none overwrites another.
 * - `value`/`threshold` are left out when null (a rule without a value); always written as floats so the
 *   field type never flips between integer and float across events.
 */
export function alarmToLine(a: AlarmEvent): string {
  let series = `${ALARMS_MEASUREMENT},device=${escapeTag(a.device, 'device')}`;
  series += `,equipment=${escapeTag(a.equipment, 'equipment')}`;
  series += `,level=${escapeTag(a.level, 'level')}`;
  if (a.rack !== undefined) series += `,rack=${escapeTag(a.rack, 'rack')}`;
  series += `,rule=${escapeTag(a.rule, 'rule')},site=${escapeTag(a.site, 'site')}`;
  series += `,state=${escapeTag(a.state, 'state')}`;

  const fields: string[] = [];
  if (a.value !== null) fields.push(`value=${formatFloat(a.value, 'value')}`);
  if (a.threshold !== null) fields.push(`threshold=${formatFloat(a.threshold, 'threshold')}`);
  fields.push(`active=${a.state === 'cleared' ? 'false' : 'true'}`);
  fields.push(`message=${quoteStringValue(a.message)}`);
  fields.push(`id=${quoteStringValue(a.id)}`);
  fields.push(`raised_at_ms=${timestampMs(a.raisedAt)}i`);

  return `${series} ${fields.join(',')} ${timestampMs(a.ts)}`;
}

/**
 * One operator action as one line (precision ms), so Grafana can show alarm handling beside the alarms:
 *
 *   alarm_actions,action=<a>,device=<d>,equipment=<e>[,rack=<r>],rule=<r>,site=<s>
 *     by="…",comment="…",episode="…"[,level="…"][,shelved_until_ms=<int>i] <at ms>
 *
 * Series are bounded like the alarms' (× 4 actions); who and why are fields, never tags. The point is
 * (tags, time): a redelivered action overwrites itself.
 */
export function alarmActionToLine(a: AlarmAction): string {
  let series = `${ALARM_ACTIONS_MEASUREMENT},action=${escapeTag(a.action, 'action')}`;
  series += `,device=${escapeTag(a.device, 'device')},equipment=${escapeTag(a.equipment, 'equipment')}`;
  if (a.rack !== undefined) series += `,rack=${escapeTag(a.rack, 'rack')}`;
  series += `,rule=${escapeTag(a.rule, 'rule')},site=${escapeTag(a.site, 'site')}`;
  const fields = [`by=${quoteStringValue(a.by)}`, `comment=${quoteStringValue(a.comment)}`];
  fields.push(`episode=${quoteStringValue(a.episode ?? '')}`);
  if (a.level !== undefined) fields.push(`level=${quoteStringValue(a.level)}`);
  if (a.shelvedUntil !== undefined) fields.push(`shelved_until_ms=${timestampMs(a.shelvedUntil)}i`);
  return `${series} ${fields.join(',')} ${timestampMs(a.at)}`;
}
