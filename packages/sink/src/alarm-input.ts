import { type AlarmAction, AlarmActionSchema, type AlarmEvent, AlarmEventSchema } from '@gridstream/schema';

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
  return parseAs(value, AlarmEventSchema, 'an alarm event');
}

/** Decodes and validates one `telemetry.alarm-actions` value, like parseAlarm. */
export function parseAlarmAction(value: Buffer | null): AlarmAction {
  return parseAs(value, AlarmActionSchema, 'an alarm action');
}

function parseAs<T>(
  value: Buffer | null,
  schema: typeof AlarmEventSchema | typeof AlarmActionSchema,
  what: string,
): T {
  let json: unknown;
  try {
    json = JSON.parse(value?.toString('utf8') ?? '');
  } catch (error) {
    throw new InvalidAlarmError('not_json', (error as Error).message);
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const first = result.error.issues[0];
    const more = result.error.issues.length > 1 ? ` (+${result.error.issues.length - 1} more)` : '';
    const path = first?.path.join('.') ?? '';
    throw new InvalidAlarmError(
      'invalid_record',
      `not ${what}: ${path ? `${path}: ` : ''}${first?.message ?? 'invalid'}${more}`,
    );
  }
  return result.data as T;
}
