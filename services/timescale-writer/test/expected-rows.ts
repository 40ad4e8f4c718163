import type { ParsedRecord } from '@gridstream/schema';

/** A row of `readings` as node-postgres returns it. */
export interface Reading {
  time: Date;
  site: string;
  equipment: string;
  device: string;
  rack: string;
  field: string;
  value: number;
  is_flag: boolean;
  quality: string | null;
}

export const READING_COLUMNS = 'time, site, equipment, device, rack, field, value, is_flag, quality';
export const KEY_ORDER = 'ORDER BY site, equipment, device, rack, field, time';

/** What `readings` must hold for these records: one row per reading and per flag, written independently. */
export function expectedReadings(records: ParsedRecord[]): Reading[] {
  return records.flatMap((r) => {
    const base = {
      time: new Date(r.ts),
      site: r.site,
      equipment: r.equipment,
      device: r.device,
      rack: r.rack ?? '',
    };
    const quality = (field: string) => r.quality?.[field]?.join(',') ?? null;
    return [
      ...Object.entries(r.fields).map(([field, value]) => ({
        ...base,
        field,
        value,
        is_flag: false,
        quality: quality(field),
      })),
      ...Object.entries(r.flags).map(([field, on]) => ({
        ...base,
        field,
        value: on ? 1 : 0,
        is_flag: true,
        quality: quality(field),
      })),
    ];
  });
}

/** Byte order, as the test cluster's C.UTF-8 collation sorts text. */
const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** In primary-key order (KEY_ORDER), to compare with a query's rows. */
export function sortedByKey(rows: Reading[]): Reading[] {
  return [...rows].sort(
    (a, b) =>
      byteOrder(a.site, b.site) ||
      byteOrder(a.equipment, b.equipment) ||
      byteOrder(a.device, b.device) ||
      byteOrder(a.rack, b.rack) ||
      byteOrder(a.field, b.field) ||
      a.time.getTime() - b.time.getTime(),
  );
}
