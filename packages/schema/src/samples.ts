import { z } from 'zod';
import { EquipmentName, FieldName, Identifier, UtcTimestamp } from './identifiers.js';
import { QualityFlag } from './quality.js';

/**
 * `samples.v1`: the flat format that collectors (Modbus, OPC UA) and the file importer write to
 * `telemetry.raw`. It is a canonical record without lineage; the parser adds lineage and validates it
 * like any other source, so every path into the pipeline goes through the same checks.
 */
export const SampleSchema = z.object({
  site: Identifier,
  equipment: EquipmentName,
  device: Identifier,
  rack: Identifier.optional(),
  ts: UtcTimestamp,
  fields: z.record(FieldName, z.number().refine(Number.isFinite, 'must be a finite number')),
  flags: z.record(FieldName, z.boolean()).optional(),
  quality: z.record(FieldName, z.array(QualityFlag)).optional(),
});
export type Sample = z.infer<typeof SampleSchema>;

export const SamplesMessageSchema = z.object({
  v: z.literal(1),
  samples: z.array(SampleSchema).min(1),
});
export type SamplesMessage = z.infer<typeof SamplesMessageSchema>;
