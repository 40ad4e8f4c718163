import type { QualityFlag, Sample } from '@gridstream/schema';
import type { PointReading } from './decode.js';

/**
 * The readings of one poll -> one sample per record (equipment/device/rack), in the order the records
 * first appear in the profile. Numbers become `fields`, bool/bit points `flags`; strings are device
 * metadata and are not sent (a sample carries only numbers and booleans).
 *
 * Quality: an out-of-range value is kept and flagged `out_of_range`; a bad value (non-finite float, failed
 * or short read) has no value to keep, so only `quality[field] = ['bad']` says it was expected and missing.
 * A record left with no field and no flag is not sent at all: the parser would reject it as empty, and the
 * collector counts the failed read already.
 *
 * `readAt` is the moment the device answered: the sample's source timestamp, as ISO 8601 UTC.
 */
export function toSamples(site: string, readings: readonly PointReading[], readAt: Date): Sample[] {
  const ts = readAt.toISOString();
  const byRecord = new Map<string, Sample>();
  for (const reading of readings) {
    const { point } = reading;
    const key = `${point.equipment}\u0000${point.device}\u0000${point.rack ?? ''}`;
    let sample = byRecord.get(key);
    if (!sample) {
      sample = { site, equipment: point.equipment, device: point.device, ts, fields: {} };
      if (point.rack !== undefined) sample.rack = point.rack;
      byRecord.set(key, sample);
    }
    if (reading.bad) {
      addQuality(sample, point.name, 'bad');
      continue;
    }
    if (typeof reading.value === 'number') {
      sample.fields[point.name] = reading.value;
      if (reading.outOfRange) addQuality(sample, point.name, 'out_of_range');
    } else if (typeof reading.value === 'boolean') {
      sample.flags ??= {};
      sample.flags[point.name] = reading.value;
    }
  }
  return [...byRecord.values()].filter(
    (s) => Object.keys(s.fields).length > 0 || Object.keys(s.flags ?? {}).length > 0,
  );
}

function addQuality(sample: Sample, field: string, flag: QualityFlag): void {
  sample.quality ??= {};
  const flags = sample.quality[field];
  if (flags === undefined) sample.quality[field] = [flag];
  else if (!flags.includes(flag)) flags.push(flag);
}
