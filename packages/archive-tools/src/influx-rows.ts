import type { InfluxSeries } from '@gridstream/influx';
import { QUALITY_FIELD_SUFFIX } from '@gridstream/influx';

/**
 * InfluxDB points → archive rows (the long layout of ARCHIVE_COLUMNS), undoing what the influx-writer
 * did: measurement → equipment, tags site/device/rack, float fields → readings, boolean fields → flags
 * (1/0 with is_flag), `<field>__quality` strings → the quality of that field.
 *
 * Exported rows have no Kafka lineage: kafka_partition and kafka_offset are both -1 (the columns are
 * NOT NULL), which is how `archive verify` and queries tell them from the archiver's rows.
 */

export const EXPORT_KAFKA_PARTITION = -1;
export const EXPORT_KAFKA_OFFSET = -1n;

export interface ExportRow {
  tsMs: number;
  equipment: string;
  site: string;
  device: string;
  rack: string | null;
  field: string;
  value: number;
  isFlag: boolean;
  quality: string | null;
}

export interface ConversionStats {
  /** Points (series rows) that produced at least one archive row. */
  points: number;
  rows: number;
  /** String fields other than `__quality` (firmware versions, modes): metadata, not archived. */
  skippedStrings: number;
  /** Points without a site or device tag: the archive's key columns cannot be null. */
  skippedUntagged: number;
}

export function newConversionStats(): ConversionStats {
  return { points: 0, rows: 0, skippedStrings: 0, skippedUntagged: 0 };
}

/** Appends the rows of one series to `out`; returns nothing so a caller can batch many series. */
export function seriesToRows(series: InfluxSeries, out: ExportRow[], stats: ConversionStats): void {
  const site = nonEmpty(series.tags.site);
  const device = nonEmpty(series.tags.device);
  // GROUP BY * reports a tag a series does not have as "", not as absent.
  const rack = nonEmpty(series.tags.rack) ?? null;
  const timeIndex = series.columns.indexOf('time');
  const qualityIndex = new Map<string, number>();
  const valueColumns: { index: number; name: string }[] = [];
  series.columns.forEach((name, index) => {
    if (index === timeIndex) return;
    if (name.endsWith(QUALITY_FIELD_SUFFIX) && name.length > QUALITY_FIELD_SUFFIX.length) {
      qualityIndex.set(name.slice(0, -QUALITY_FIELD_SUFFIX.length), index);
    } else {
      valueColumns.push({ index, name });
    }
  });
  for (const row of series.values) {
    const tsMs = row[timeIndex];
    if (typeof tsMs !== 'number') continue;
    if (site === undefined || device === undefined) {
      stats.skippedUntagged++;
      continue;
    }
    let produced = 0;
    for (const { index, name } of valueColumns) {
      const v = row[index];
      // SELECT * returns the union of every field of the measurement; a point lacks most of them.
      if (v === null || v === undefined) continue;
      let value: number;
      let isFlag = false;
      if (typeof v === 'boolean') {
        value = v ? 1 : 0;
        isFlag = true;
      } else if (typeof v === 'number' && Number.isFinite(v)) {
        value = v;
      } else {
        if (typeof v === 'string') stats.skippedStrings++;
        continue;
      }
      const qi = qualityIndex.get(name);
      const q = qi === undefined ? null : row[qi];
      out.push({
        tsMs,
        equipment: series.name,
        site,
        device,
        rack,
        field: name,
        value,
        isFlag,
        quality: typeof q === 'string' && q !== '' ? q : null,
      });
      produced++;
    }
    if (produced > 0) {
      stats.points++;
      stats.rows += produced;
    }
  }
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}
