import { escapeTag, formatFloat, quoteStringValue, timestampMs } from '@gridstream/influx';
import { type AlarmEvent, AlarmEventSchema } from '@gridstream/schema';

/** The measurement every alarm event goes to (the contract in docs/messages.md). */
export const ALARMS_MEASUREMENT = 'alarms';

/** A message from the alarms topic that cannot be written; `reason` is the dead letter's reason code. */
export class InvalidAlarmError extends Error {
  override readonly name = 'InvalidAlarmError';
  constructor(
    readonly reason: 'not_json' | 'invalid_record',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Decodes and validates one `telemetry.alarms` value. The schema is checked in full (unlike records,
 * which the parser already validated on the same code path): alarm events come from another stage, and a
 * level or state outside the closed lists would become a tag value no dashboard query expects.
 */
export function parseAlarm(value: Buffer | null): AlarmEvent {
  let json: unknown;
  try {
    json = JSON.parse(value?.toString('utf8') ?? '');
  } catch (error) {
    throw new InvalidAlarmError('not_json', (error as Error).message);
  }
  const result = AlarmEventSchema.safeParse(json);
  if (!result.success) {
    const first = result.error.issues[0];
    const more = result.error.issues.length > 1 ? ` (+${result.error.issues.length - 1} more)` : '';
    const path = first?.path.join('.') ?? '';
    throw new InvalidAlarmError(
      'invalid_record',
      `not an alarm event: ${path ? `${path}: ` : ''}${first?.message ?? 'invalid'}${more}`,
    );
  }
  return result.data;
}

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
