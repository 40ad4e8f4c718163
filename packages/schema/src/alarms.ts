import { z } from 'zod';
import { EquipmentName, FieldName, Identifier, UtcTimestamp } from './identifiers.js';

/** Severity of an alarm; a fault is worse than a warning. */
export const ALARM_LEVELS = ['warning', 'fault'] as const;
export const AlarmLevel = z.enum(ALARM_LEVELS);
export type AlarmLevel = z.infer<typeof AlarmLevel>;

/**
 * What happened to an alarm episode. An episode starts with `raised`, may change level (`escalated` to a
 * worse one, `deescalated` to a milder one) and ends with `cleared`. One episode, however many samples
 * cross the threshold: operators see one alarm, not one per reading.
 */
export const ALARM_STATES = ['raised', 'escalated', 'deescalated', 'cleared'] as const;
export const AlarmState = z.enum(ALARM_STATES);
export type AlarmState = z.infer<typeof AlarmState>;

/**
 * One event of an alarm episode on `telemetry.alarms` (Kafka key: `alarmKey()`, so the topic can be
 * compacted to the latest state of every alarm) and in InfluxDB's `alarms` measurement.
 */
export const AlarmEventSchema = z.object({
  v: z.literal(1),
  /** Episode id: `<alarmKey>@<raisedAt>`; the same for every event of one episode. */
  id: z.string().min(1),
  site: Identifier,
  equipment: EquipmentName,
  device: Identifier,
  rack: Identifier.optional(),
  /** Rule name from the alarm configuration, e.g. `cell_over_voltage`, or `device_missing`. */
  rule: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be lower snake case'),
  /** The field (or derived quantity) the rule watches. */
  field: FieldName,
  state: AlarmState,
  /** Level after this event; for `cleared`, the last level the episode had. */
  level: AlarmLevel,
  /** The value that caused this event (null for rules without a value, e.g. a silent device). */
  value: z.number().nullable(),
  /** The threshold crossed (raise/escalate) or the clear threshold passed (cleared); null if none. */
  threshold: z.number().nullable(),
  /** Source time of the sample that started the episode. */
  raisedAt: UtcTimestamp,
  /** Source time of this event. */
  ts: UtcTimestamp,
  message: z.string(),
});
export type AlarmEvent = z.infer<typeof AlarmEventSchema>;

/** Kafka key of an alarm: one per rule and (sub)device, so its episodes stay in order in one partition. */
export function alarmKey(a: Pick<AlarmEvent, 'site' | 'equipment' | 'device' | 'rack' | 'rule'>): string {
  return `${a.site}/${a.equipment}/${a.device}/${a.rack ?? ''}/${a.rule}`;
}
