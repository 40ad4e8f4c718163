import { z } from 'zod';
import { Identifier } from './identifiers.js';

/**
 * `microgrid.v1`: the nested JSON a campus-microgrid gateway publishes over AMQP
 * (see ../shared/reference/microgrid/sample.json). Unknown keys are tolerated everywhere: gateways add
 * metadata, and the same equipment type sends different keys per instance (the transformers do).
 */

/** Equipment type of each FieldDeviceLayer group. Groups not listed here are named after their key. */
export const MICROGRID_EQUIPMENT: Readonly<Record<string, string>> = {
  field1: 'battery',
  field2: 'dcdc_converter',
  field3: 'inverter',
  field4: 'transformer',
  field5: 'pv',
  field6: 'ev_charger',
};

/** `YYYY-MM-DD HH:MM:SS[.ffffff]`, wall-clock time in the site's zone (no offset in the message). */
export const LOCAL_TIMESTAMP_PATTERN = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/;

const IdValue = z.union([z.string(), z.number().int().nonnegative()]).transform(String).pipe(Identifier);

export const MicrogridHeaderSchema = z.looseObject({
  site_id: IdValue,
  timestamp: z.string().regex(LOCAL_TIMESTAMP_PATTERN, 'must be "YYYY-MM-DD HH:MM:SS" local time'),
});
export type MicrogridHeader = z.infer<typeof MicrogridHeaderSchema>;

/**
 * Values of a device instance: numbers are readings, booleans are status flags, strings and nested
 * objects are metadata, null is "no reading this interval". The parser enforces the one type rule zod
 * cannot see from shape alone: a numeric-looking string is a reading sent with the wrong type.
 */
export const ReadingValue = z.union([z.number(), z.boolean(), z.string(), z.null(), z.looseObject({})]);

/** A battery rack inside a battery instance; itself a device with readings and flags. */
export const MicrogridRackSchema = z.looseObject({
  index: IdValue.optional(),
  id: IdValue.optional(),
});

export const MicrogridDeviceSchema = z.looseObject({
  /** Batteries are identified by `id` ("01"), every other equipment by `index` (1). */
  id: IdValue.optional(),
  index: IdValue.optional(),
  racks: z.union([MicrogridRackSchema, z.array(MicrogridRackSchema)]).optional(),
});
export type MicrogridDevice = z.infer<typeof MicrogridDeviceSchema>;

export const MicrogridFieldGroupSchema = z.looseObject({
  Name: z.string().optional(),
  service: z.array(MicrogridDeviceSchema),
});
export type MicrogridFieldGroup = z.infer<typeof MicrogridFieldGroupSchema>;

export const MicrogridMessageSchema = z.looseObject({
  header: MicrogridHeaderSchema,
  FieldDeviceLayer: z.record(z.string(), MicrogridFieldGroupSchema),
});
export type MicrogridMessage = z.infer<typeof MicrogridMessageSchema>;
