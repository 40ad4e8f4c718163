import { z } from 'zod';

/**
 * Quality flags attached to a value. A flagged value is still stored: operators decide what to trust,
 * the pipeline never silently drops or silently trusts a reading.
 */
export const QUALITY_FLAGS = [
  'out_of_range', // outside the valid range of its device profile
  'bad', // the source said so (OPC UA Bad status, Modbus exception)
  'uncertain', // the source was unsure (OPC UA Uncertain status)
  'stale', // no new value for longer than expected
  'flatline', // the same value for too many samples
  'rate_of_change', // changed faster than physically plausible
  'anomaly', // outside the fences learned from history
] as const;

export const QualityFlag = z.enum(QUALITY_FLAGS);
export type QualityFlag = z.infer<typeof QualityFlag>;
