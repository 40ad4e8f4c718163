import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { ArchiveObject, ArchiveSource, DtRange } from './archive-source.js';
import { sqlString } from './duckdb-engine.js';

/**
 * Reconciliation of the archive with Kafka. Every parsed record of `telemetry.parsed` that the archiver
 * consumed must be in exactly one archive file: per Kafka partition the distinct `kafka_offset`s must
 * cover every offset that holds a record, from the topic's earliest offset (or the first archived one) up
 * to the archiver group's committed offset − 1. The parser writes in transactions, so not every offset is
 * a record: each commit leaves a marker, and an aborted attempt leaves records no reader sees. A missing
 * offset is therefore a gap (loss) only if Kafka holds a committed record there (`recordOffsets` asks);
 * an offset in two files is a duplicate; and the same reading (site, equipment, device, rack, field, ts)
 * in two rows of different offsets is a duplicate reading — a query summing the archive would count it
 * twice, whatever put it there.
 *
 * Late data puts a record in the dt folder of its source time, so offsets of one partition are spread
 * over several days. A window (--from/--to) is checked on its own offsets, and an offset missing inside
 * it is looked up in files of other days whose names (first/last offset) say they could hold it, before
 * it is called a gap.
 */

export interface KafkaPartitionOffsets {
  partition: number;
  /** Earliest offset still in the topic. */
  earliest: bigint;
  /** Next offset the archiver group will read (its committed offset); null when it never committed. */
  committed: bigint | null;
}

export interface VerifyOptions {
  source: ArchiveSource;
  /** Topic whose files are checked (`<topic>+<partition>+…` names): KAFKA_TOPIC_PARSED. */
  topic: string;
  range?: DtRange;
  /** From Kafka; without it only the archive's own consistency (inner gaps, duplicates) is checked. */
  kafka?: readonly KafkaPartitionOffsets[];
  /** How many gap/duplicate lines the report lists (the counts are always complete). */
  detailLimit?: number;
  /**
   * Which offsets of the given ranges of a partition hold a committed record (read from Kafka,
   * read_committed). Without it every missing offset counts as a gap (a topic written without
   * transactions). Offsets Kafka no longer holds (below its earliest) cannot be checked and are reported
   * apart, as unverifiable.
   */
  recordOffsets?: (partition: number, ranges: { from: bigint; to: bigint }[]) => Promise<Set<bigint>>;
  /**
   * DuckDB's memory for the check (default 1GB); past it, it spills to a temporary folder. Without a limit
   * DuckDB takes 80% of the machine: the soak's verdict over 44 million rows took 19 GiB and was killed.
   */
  memoryLimit?: string;
  /**
   * Hears where the check is — a long one over S3 fetches every file first — so a command can show it:
   * each stage as it starts, and the fetch file by file.
   */
  onProgress?: (progress: VerifyProgress) => void;
}

export type VerifyProgress =
  | { stage: 'listed'; windowFiles: number; exportFiles: number }
  | { stage: 'fetching'; done: number; toFetch: number }
  | { stage: 'reading'; files: number }
  | { stage: 'kafka'; ranges: number }
  | { stage: 'duplicates' };

export interface GapRange {
  partition: number;
  from: bigint;
  to: bigint;
  count: bigint;
  /** dt of the record before the gap (or after it, for a gap at the start). */
  dt: string;
}

export interface DtSummary {
  dt: string;
  archiverFiles: number;
  archiverRows: number;
  records: number;
  exportFiles: number;
  exportRows: number;
  gaps: number;
  missingOffsets: bigint;
  duplicateRecords: number;
  /** Readings (site, equipment, device, rack, field, ts) archived more than once from different offsets. */
  duplicateReadings: number;
  /** Exported rows that repeat an archiver row (same series, field and ts): a query would count both. */
  overlappingRows: number;
}

export interface PartitionSummary {
  partition: number;
  expectedFrom: bigint;
  expectedTo: bigint;
  present: bigint;
  missing: bigint;
  committed: bigint | null;
}

export interface VerifyReport {
  range: DtRange;
  days: DtSummary[];
  partitions: PartitionSummary[];
  gaps: GapRange[];
  duplicates: { partition: number; offset: bigint; files: string[] }[];
  /** The same reading in rows of different offsets (examples, up to detailLimit). */
  duplicateReadings: { reading: string; copies: number; offsets: string[] }[];
  /** Offset gaps Kafka could not say anything about (retention deleted them): neither loss nor fine. */
  unverifiable: GapRange[];
  totals: {
    gaps: number;
    missingOffsets: bigint;
    duplicateRecords: number;
    duplicateReadings: number;
    overlappingRows: number;
    unverifiableOffsets: bigint;
  };
  ok: boolean;
}

export async function verifyArchive(options: VerifyOptions): Promise<VerifyReport> {
  const range = options.range ?? {};
  const all = await options.source.list();
  const inWindow = (o: ArchiveObject) =>
    (range.from === undefined || o.info.dt >= range.from) &&
    (range.to === undefined || o.info.dt <= range.to);
  const ours = all.filter((o) => o.info.kind === 'archiver' && o.info.topic === options.topic);
  const windowFiles = ours.filter(inWindow);
  const exportFiles = all.filter((o) => o.info.kind === 'export' && inWindow(o));
  const progress = options.onProgress ?? (() => undefined);
  progress({ stage: 'listed', windowFiles: windowFiles.length, exportFiles: exportFiles.length });
  const fetched = (done: number, toFetch: number) => progress({ stage: 'fetching', done, toFetch });

  const spillDir = await mkdtemp(join(tmpdir(), 'gridstream-verify-'));
  const instance = await DuckDBInstance.create(':memory:', {
    memory_limit: options.memoryLimit ?? '1GB',
    temp_directory: spillDir,
  });
  const db = await instance.connect();
  const q = async (sql: string) => (await db.runAndReadAll(sql)).getRowsJS();
  try {
    await db.run(`CREATE TABLE files (path VARCHAR, key VARCHAR, dt VARCHAR, kind VARCHAR)`);
    await db.run(`CREATE TABLE offs (p INTEGER, o BIGINT, path VARCHAR, n BIGINT)`);
    const loaded = new Set<string>();
    const load = async (objects: ArchiveObject[], kind: 'window' | 'outside') => {
      const todo = objects.filter((o) => !loaded.has(o.key));
      if (todo.length === 0) return;
      const paths = await options.source.localPaths(todo, fetched);
      progress({ stage: 'reading', files: todo.length });
      await insertFiles(db, todo, paths, kind);
      for (const o of todo) loaded.add(o.key);
      await db.run(
        `INSERT INTO offs SELECT kafka_partition, kafka_offset, filename, count(*) FROM read_parquet([${paths
          .map(sqlString)
          .join(', ')}], filename = true) GROUP BY ALL`,
      );
    };
    await load(windowFiles, 'window');

    // Expected range per partition: what the window holds, widened to Kafka's view at an open end.
    await db.run(`CREATE TABLE ranges (p INTEGER, lo BIGINT, hi BIGINT, committed BIGINT)`);
    const present = new Map<number, { lo: bigint; hi: bigint }>();
    for (const [p, lo, hi] of await q(`SELECT p, min(o), max(o) FROM offs GROUP BY p`)) {
      present.set(Number(p), { lo: BigInt(lo as bigint), hi: BigInt(hi as bigint) });
    }
    const kafkaBy = new Map((options.kafka ?? []).map((k) => [k.partition, k]));
    const partitions = new Set<number>([...present.keys(), ...kafkaBy.keys()]);
    for (const p of partitions) {
      const have = present.get(p);
      const k = kafkaBy.get(p);
      let lo = have?.lo;
      let hi = have?.hi;
      if (k !== undefined && range.from === undefined && (lo === undefined || k.earliest < lo))
        lo = k.earliest;
      if (k?.committed != null && range.to === undefined && (hi === undefined || k.committed - 1n > hi)) {
        hi = k.committed - 1n;
      }
      if (lo === undefined || hi === undefined || hi < lo) continue;
      await db.run(`INSERT INTO ranges VALUES (${p}, ${lo}, ${hi}, ${k?.committed ?? 'NULL'})`);
    }

    // Offsets missing from the window may sit in other days' files (late or early data): load the files
    // whose offset span (from their names) touches a candidate gap, then compute the gaps again.
    const candidates = await gapRanges(q);
    if (candidates.length > 0) {
      const outside = ours.filter(
        (o) =>
          !inWindow(o) &&
          o.info.kind === 'archiver' &&
          candidates.some((g) => {
            const info = o.info as Extract<ArchiveObject['info'], { kind: 'archiver' }>;
            return info.partition === g.p && info.first <= g.to && info.last >= g.from;
          }),
      );
      await load(outside, 'outside');
    }
    let gapRows = await gapRanges(q);
    // Transaction markers and aborted records are offsets without a record: ask Kafka which missing
    // offsets really held one. Below the earliest offset Kafka still has, nobody can tell.
    const unverifiableRows: typeof gapRows = [];
    if (options.recordOffsets && gapRows.length > 0) {
      progress({ stage: 'kafka', ranges: gapRows.length });
      const checked: typeof gapRows = [];
      const byPartition = new Map<number, typeof gapRows>();
      for (const g of gapRows) byPartition.set(g.p, [...(byPartition.get(g.p) ?? []), g]);
      for (const [p, list] of byPartition) {
        const earliest = kafkaBy.get(p)?.earliest ?? 0n;
        const old = list.filter((g) => g.from < earliest);
        for (const g of old)
          unverifiableRows.push({ p, from: g.from, to: g.to < earliest ? g.to : earliest - 1n });
        const checkable = list
          .filter((g) => g.to >= earliest)
          .map((g) => ({ p, from: g.from < earliest ? earliest : g.from, to: g.to }));
        if (checkable.length === 0) continue;
        const records = await options.recordOffsets(
          p,
          checkable.map((g) => ({ from: g.from, to: g.to })),
        );
        for (const offset of [...records].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
          const last = checked[checked.length - 1];
          if (last && last.p === p && last.to === offset - 1n) last.to = offset;
          else checked.push({ p, from: offset, to: offset });
        }
      }
      gapRows = checked;
    }

    const gaps: GapRange[] = [];
    for (const g of gapRows) {
      const near = await q(
        `SELECT min(f.dt) FROM offs JOIN files f USING (path) WHERE p = ${g.p} AND (o = ${g.from - 1n} OR o = ${g.to + 1n})`,
      );
      gaps.push({
        partition: g.p,
        from: g.from,
        to: g.to,
        count: g.to - g.from + 1n,
        dt: String(near[0]?.[0] ?? '?'),
      });
    }

    const duplicates: VerifyReport['duplicates'] = [];
    const dupRows = await q(
      `SELECT p, o, list(DISTINCT f.key ORDER BY f.key), min(f.dt) FROM offs JOIN files f USING (path)
        GROUP BY p, o HAVING count(DISTINCT path) > 1 ORDER BY p, o`,
    );
    // The same reading under two offsets: two records of one reading reached the archive (a redelivered
    // raw message the parser did not recognise, a replay, a file of a former owner left behind).
    const duplicateReadings: VerifyReport['duplicateReadings'] = [];
    const readingDupsByDt = new Map<string, number>();
    if (windowFiles.length > 0) {
      progress({ stage: 'duplicates' });
      const paths = await q(`SELECT path FROM files WHERE kind = 'window'`);
      const list = `[${paths.map((r) => sqlString(String(r[0]))).join(', ')}]`;
      // Two passes, so that memory stays bounded whatever the archive's size: plain aggregates (which
      // DuckDB can spill) find the readings under more than one offset, then only those few are looked up
      // again for their offsets.
      await db.run(
        `CREATE TEMP TABLE dup_readings AS
           SELECT site, equipment, device, rack, field, ts, count(*) AS copies
             FROM read_parquet(${list})
            GROUP BY ALL
           HAVING count(*) > 1
              AND (min(kafka_partition) <> max(kafka_partition) OR min(kafka_offset) <> max(kafka_offset))`,
      );
      for (const [dt, n] of await q(
        `SELECT strftime(ts AT TIME ZONE 'UTC', '%Y-%m-%d'), count(*) FROM dup_readings GROUP BY 1`,
      ))
        readingDupsByDt.set(String(dt), Number(n));
      for (const [site, equipment, device, rack, field, ts, copies, offsets] of await q(
        `SELECT d.site, d.equipment, d.device, d.rack, d.field,
                strftime(d.ts AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ'), d.copies,
                list(DISTINCT a.kafka_partition || ':' || a.kafka_offset ORDER BY a.kafka_partition || ':' || a.kafka_offset)
           FROM (SELECT * FROM dup_readings ORDER BY ts, site, equipment, device, rack, field LIMIT ${options.detailLimit ?? 50}) d
           JOIN read_parquet(${list}) a
             ON a.site = d.site AND a.equipment = d.equipment AND a.device = d.device
            AND a.rack IS NOT DISTINCT FROM d.rack AND a.field = d.field AND a.ts = d.ts
          GROUP BY d.site, d.equipment, d.device, d.rack, d.field, d.ts, d.copies
          ORDER BY d.ts, d.site, d.equipment, d.device, d.rack, d.field`,
      )) {
        duplicateReadings.push({
          reading: `${site}/${equipment}/${device}/${rack ?? ''}/${field}@${ts}`,
          copies: Number(copies),
          offsets: (offsets as string[]).map(String),
        });
      }
    }
    const duplicateReadingCount = [...readingDupsByDt.values()].reduce((a, b) => a + b, 0);

    const dupByDt = new Map<string, number>();
    for (const [p, o, keys, dt] of dupRows) {
      duplicates.push({
        partition: Number(p),
        offset: BigInt(o as bigint),
        files: (keys as string[]).map(String),
      });
      dupByDt.set(String(dt), (dupByDt.get(String(dt)) ?? 0) + 1);
    }

    // Per-day statistics of the window, and exported rows that repeat archiver rows.
    const days = new Map<string, DtSummary>();
    const day = (dt: string) => {
      let d = days.get(dt);
      if (d === undefined) {
        d = {
          dt,
          archiverFiles: 0,
          archiverRows: 0,
          records: 0,
          exportFiles: 0,
          exportRows: 0,
          gaps: 0,
          missingOffsets: 0n,
          duplicateRecords: 0,
          duplicateReadings: 0,
          overlappingRows: 0,
        };
        days.set(dt, d);
      }
      return d;
    };
    for (const [dt, nFiles, rows, records] of await q(
      `SELECT f.dt, count(DISTINCT path), sum(n), count(DISTINCT (p, o)) FROM offs JOIN files f USING (path)
        WHERE f.kind = 'window' GROUP BY f.dt`,
    )) {
      const d = day(String(dt));
      d.archiverFiles = Number(nFiles);
      d.archiverRows = Number(rows);
      d.records = Number(records);
    }
    for (const g of gaps) {
      const d = day(g.dt);
      d.gaps++;
      d.missingOffsets += g.count;
    }
    for (const [dt, n] of dupByDt) day(dt).duplicateRecords = n;
    for (const [dt, n] of readingDupsByDt) day(dt).duplicateReadings = n;
    if (exportFiles.length > 0) {
      const paths = await options.source.localPaths(exportFiles, fetched);
      await insertFiles(db, exportFiles, paths, 'export');
      for (const [dt, nFiles, rows] of await q(
        `SELECT f.dt, count(DISTINCT filename), count(*) FROM read_parquet([${paths.map(sqlString).join(', ')}], filename = true) r
          JOIN files f ON f.path = r.filename GROUP BY f.dt`,
      )) {
        const d = day(String(dt));
        d.exportFiles = Number(nFiles);
        d.exportRows = Number(rows);
      }
      await countOverlaps(db, q, exportFiles, windowFiles, paths, day);
    }

    const missingBy = new Map<number, bigint>();
    for (const g of gaps) missingBy.set(g.partition, (missingBy.get(g.partition) ?? 0n) + g.count);
    const partitionsOut: PartitionSummary[] = [];
    for (const [p, lo, hi, committed, have] of await q(
      `SELECT r.p, r.lo, r.hi, r.committed, (SELECT count(DISTINCT o) FROM offs WHERE offs.p = r.p AND o BETWEEN r.lo AND r.hi)
        FROM ranges r ORDER BY r.p`,
    )) {
      partitionsOut.push({
        partition: Number(p),
        expectedFrom: BigInt(lo as bigint),
        expectedTo: BigInt(hi as bigint),
        present: BigInt(have as bigint),
        missing: missingBy.get(Number(p)) ?? 0n,
        committed: committed === null ? null : BigInt(committed as bigint),
      });
    }

    const dayList = [...days.values()].sort((a, b) => a.dt.localeCompare(b.dt));
    const unverifiable: GapRange[] = unverifiableRows.map((g) => ({
      partition: g.p,
      from: g.from,
      to: g.to,
      count: g.to - g.from + 1n,
      dt: '?',
    }));
    const totals = {
      gaps: gaps.length,
      missingOffsets: gaps.reduce((n, g) => n + g.count, 0n),
      duplicateRecords: duplicates.length,
      duplicateReadings: duplicateReadingCount,
      overlappingRows: dayList.reduce((n, d) => n + d.overlappingRows, 0),
      unverifiableOffsets: unverifiable.reduce((n, g) => n + g.count, 0n),
    };
    return {
      range,
      days: dayList,
      partitions: partitionsOut,
      gaps,
      duplicates,
      duplicateReadings,
      unverifiable,
      totals,
      ok:
        totals.gaps === 0 &&
        totals.duplicateRecords === 0 &&
        totals.duplicateReadings === 0 &&
        totals.overlappingRows === 0,
    };
  } finally {
    db.closeSync();
    instance.closeSync();
    await rm(spillDir, { recursive: true, force: true });
  }
}

type Query = (sql: string) => Promise<unknown[][]>;

async function insertFiles(
  db: import('@duckdb/node-api').DuckDBConnection,
  objects: readonly ArchiveObject[],
  paths: readonly string[],
  kind: string,
): Promise<void> {
  if (objects.length === 0) return;
  const values = objects
    .map(
      (o, i) => `(${sqlString(paths[i]!)}, ${sqlString(o.key)}, ${sqlString(o.info.dt)}, ${sqlString(kind)})`,
    )
    .join(', ');
  await db.run(`INSERT INTO files VALUES ${values}`);
}

/** Missing offsets inside each partition's expected range, as [from, to] runs. */
async function gapRanges(q: Query): Promise<{ p: number; from: bigint; to: bigint }[]> {
  const rows = await q(`
    WITH d AS (SELECT DISTINCT offs.p, o FROM offs JOIN ranges r ON r.p = offs.p AND o BETWEEN r.lo AND r.hi),
    seq AS (SELECT p, o, lead(o) OVER (PARTITION BY p ORDER BY o) AS nxt FROM d),
    firsts AS (SELECT r.p, r.lo, r.hi, min(d.o) AS first, max(d.o) AS last FROM ranges r LEFT JOIN d ON d.p = r.p GROUP BY ALL)
    SELECT p, o + 1, nxt - 1 FROM seq WHERE nxt > o + 1
    UNION ALL SELECT p, lo, coalesce(first, hi + 1) - 1 FROM firsts WHERE coalesce(first, hi + 1) > lo
    UNION ALL SELECT p, last + 1, hi FROM firsts WHERE last IS NOT NULL AND last < hi
    ORDER BY 1, 2`);
  return rows.map(([p, from, to]) => ({
    p: Number(p),
    from: BigInt(from as bigint),
    to: BigInt(to as bigint),
  }));
}

async function countOverlaps(
  db: import('@duckdb/node-api').DuckDBConnection,
  q: Query,
  exportFiles: readonly ArchiveObject[],
  windowFiles: readonly ArchiveObject[],
  exportPaths: readonly string[],
  day: (dt: string) => DtSummary,
): Promise<void> {
  const exportDts = new Set(exportFiles.map((o) => o.info.dt));
  if (!windowFiles.some((o) => exportDts.has(o.info.dt))) return;
  const archiverPaths = await q(
    `SELECT path FROM files WHERE kind = 'window' AND dt IN (${[...exportDts].map(sqlString).join(', ')})`,
  );
  const list = (paths: readonly unknown[]) => `[${paths.map((p) => sqlString(String(p))).join(', ')}]`;
  await db.run(
    `CREATE TEMP TABLE arch AS SELECT DISTINCT site, equipment, device, rack, field, ts
       FROM read_parquet(${list(archiverPaths.map((r) => r[0]))})`,
  );
  for (const [dt, n] of await q(
    `SELECT f.dt, count(*) FROM read_parquet(${list(exportPaths)}, filename = true) e
       JOIN files f ON f.path = e.filename
       WHERE EXISTS (SELECT 1 FROM arch a WHERE a.site = e.site AND a.equipment = e.equipment AND a.device = e.device
         AND a.rack IS NOT DISTINCT FROM e.rack AND a.field = e.field AND a.ts = e.ts)
       GROUP BY f.dt`,
  )) {
    day(String(dt)).overlappingRows = Number(n);
  }
}

/** A value as JSON.parse would give it back: bigints become their decimal strings, nothing else changes. */
export type BigintsAsStrings<T> = T extends bigint
  ? string
  : T extends readonly (infer U)[]
    ? BigintsAsStrings<U>[]
    : T extends object
      ? { [K in keyof T]: BigintsAsStrings<T[K]> }
      : T;

function bigintsAsStrings<T>(value: T): BigintsAsStrings<T> {
  if (typeof value === 'bigint') return value.toString() as BigintsAsStrings<T>;
  if (Array.isArray(value)) return value.map(bigintsAsStrings) as BigintsAsStrings<T>;
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, bigintsAsStrings(v)]),
    ) as BigintsAsStrings<T>;
  return value as BigintsAsStrings<T>;
}

/**
 * The report for `archive verify --json`: the whole VerifyReport (every gap, duplicate and day, not cut at
 * a detail limit), with its bigints (offsets, offset counts) as decimal strings so no digit is lost.
 */
export function verifyReportToJson(report: VerifyReport): BigintsAsStrings<VerifyReport> {
  return bigintsAsStrings(report);
}

/** The report as text: one line per day, then gaps and duplicates in detail (up to `limit` each). */
export function formatVerifyReport(report: VerifyReport, limit = 50): string {
  const lines: string[] = [];
  const span = `${report.range.from ?? 'start'} .. ${report.range.to ?? 'end'}`;
  lines.push(`archive verify ${span}`);
  lines.push(
    'dt          files  records      rows  gaps  missing  duplicates  dup-readings  export-files  export-rows  overlaps',
  );
  for (const d of report.days) {
    lines.push(
      `${d.dt}  ${pad(d.archiverFiles, 5)}  ${pad(d.records, 7)}  ${pad(d.archiverRows, 8)}  ${pad(d.gaps, 4)}  ${pad(
        d.missingOffsets,
        7,
      )}  ${pad(d.duplicateRecords, 10)}  ${pad(d.duplicateReadings, 12)}  ${pad(d.exportFiles, 12)}  ${pad(d.exportRows, 11)}  ${pad(d.overlappingRows, 8)}`,
    );
  }
  if (report.partitions.length > 0) {
    lines.push('partition  expected-offsets            present  missing  committed');
    for (const p of report.partitions) {
      lines.push(
        `${pad(p.partition, 9)}  ${`${p.expectedFrom}..${p.expectedTo}`.padEnd(26)}  ${pad(p.present, 7)}  ${pad(
          p.missing,
          7,
        )}  ${p.committed === null ? '-' : p.committed}`,
      );
    }
  }
  for (const g of report.gaps.slice(0, limit)) {
    lines.push(
      `GAP partition ${g.partition} offsets ${g.from}..${g.to} (${g.count} missing) near dt=${g.dt}`,
    );
  }
  if (report.gaps.length > limit) lines.push(`… ${report.gaps.length - limit} more gaps`);
  for (const d of report.duplicates.slice(0, limit)) {
    lines.push(`DUPLICATE partition ${d.partition} offset ${d.offset} in ${d.files.join(', ')}`);
  }
  if (report.duplicates.length > limit) lines.push(`… ${report.duplicates.length - limit} more duplicates`);
  for (const d of report.duplicateReadings.slice(0, limit)) {
    lines.push(`DUPLICATE READING ${d.reading}: ${d.copies} rows from offsets ${d.offsets.join(', ')}`);
  }
  const t = report.totals;
  if (t.duplicateReadings > report.duplicateReadings.length)
    lines.push(`… ${t.duplicateReadings - report.duplicateReadings.length} more duplicate readings`);
  if (t.unverifiableOffsets > 0n)
    lines.push(
      `NOTE: ${t.unverifiableOffsets} missing offset(s) are older than what Kafka still holds; whether they were records cannot be checked`,
    );
  lines.push(
    report.ok
      ? 'OK: no gaps, no duplicates'
      : `PROBLEMS: ${t.gaps} gap(s) (${t.missingOffsets} offsets missing), ${t.duplicateRecords} duplicated record(s), ${t.duplicateReadings} reading(s) archived more than once, ${t.overlappingRows} exported row(s) overlapping archiver rows`,
  );
  return lines.join('\n');
}

function pad(v: number | bigint, width: number): string {
  return String(v).padStart(width);
}
