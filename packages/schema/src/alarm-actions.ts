import { z } from 'zod';
import { EquipmentName, Identifier, UtcTimestamp } from './identifiers.js';

/**
 * What an operator did to an alarm (ISA-18.2 alarm handling):
 * - `acknowledged`: the operator has seen this episode. Valid for the episode at the level acknowledged; an
 *   escalation to a worse level afterwards needs a new acknowledgement (it is a new annunciation).
 * - `shelved`: the alarm (every episode of it) is set aside until `shelvedUntil`, with a reason; shelving
 *   always ends by itself, so an alarm cannot be forgotten on the shelf.
 * - `unshelved`: back before its shelf time ran out.
 * - `commented`: a note in the alarm's history, nothing else changes.
 */
export const ALARM_ACTIONS = ['acknowledged', 'shelved', 'unshelved', 'commented'] as const;
export const AlarmActionKind = z.enum(ALARM_ACTIONS);
export type AlarmActionKind = z.infer<typeof AlarmActionKind>;

/** Who did it: the name given at login (or the API caller's), printable, no line breaks. */
export const OperatorName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[^\p{Cc}]+$/u, 'must not hold control characters');

/**
 * One operator action on `telemetry.alarm-actions` (Kafka key: the alarm's `alarmKey()`, so the actions on
 * one alarm stay in order) and in InfluxDB's `alarm_actions` measurement. The topic keeps every action (no
 * compaction, no time limit by default): it is the alarm handling's audit trail, and it is small — people
 * write it, not devices.
 */
export const AlarmActionSchema = z
  .object({
    v: z.literal(1),
    /** Unique per action (a UUID): a redelivered action is applied once. */
    id: z.string().min(1).max(64),
    action: AlarmActionKind,
    /** The episode acted on (`AlarmEvent.id`), when the alarm had one at the time. */
    episode: z.string().min(1).optional(),
    site: Identifier,
    equipment: EquipmentName,
    device: Identifier,
    rack: Identifier.optional(),
    rule: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be lower snake case'),
    /** The episode's level when acknowledged: a later escalation above it asks for a new acknowledgement. */
    level: z.enum(['warning', 'fault']).optional(),
    by: OperatorName,
    at: UtcTimestamp,
    comment: z.string().max(1_000).default(''),
    /** For `shelved`: when the shelf ends by itself. */
    shelvedUntil: UtcTimestamp.optional(),
  })
  .refine((a) => a.action !== 'shelved' || a.shelvedUntil !== undefined, {
    message: 'a shelved action needs shelvedUntil',
    path: ['shelvedUntil'],
  });
export type AlarmAction = z.infer<typeof AlarmActionSchema>;
