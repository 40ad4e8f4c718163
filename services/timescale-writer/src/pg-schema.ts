import type { TableName } from './pg-rows.js';

/** A quoted SQL identifier. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

interface Column {
  name: string;
  type: string;
  /** NOT NULL, with this default when one is given. */
  notNull: boolean;
  default?: string;
}

export interface TableDefinition {
  name: TableName;
  /** In COPY order: the key columns first (pg-rows.ts builds the lines in this order). */
  columns: readonly Column[];
  /** The primary key in index order: what a query filters on first comes first, time last. */
  primaryKey: readonly string[];
  /** Segments of compressed chunks (TimescaleDB): the series, so each compresses as one run of values. */
  segmentBy: readonly string[];
}

const text = (name: string): Column => ({ name, type: 'text', notNull: true });
const rack: Column = { name: 'rack', type: 'text', notNull: true, default: "''" };
const time: Column = { name: 'time', type: 'timestamptz', notNull: true };

export const TABLES: Record<TableName, TableDefinition> = {
  readings: {
    name: 'readings',
    columns: [
      time,
      text('site'),
      text('equipment'),
      text('device'),
      rack,
      text('field'),
      { name: 'value', type: 'double precision', notNull: true },
      { name: 'is_flag', type: 'boolean', notNull: true },
      { name: 'quality', type: 'text', notNull: false },
    ],
    primaryKey: ['site', 'equipment', 'device', 'rack', 'field', 'time'],
    segmentBy: ['site', 'equipment', 'device', 'rack', 'field'],
  },
  alarms: {
    name: 'alarms',
    columns: [
      text('site'),
      text('equipment'),
      text('device'),
      rack,
      text('rule'),
      text('level'),
      text('state'),
      time,
      text('field'),
      { name: 'value', type: 'double precision', notNull: false },
      { name: 'threshold', type: 'double precision', notNull: false },
      { name: 'active', type: 'boolean', notNull: true },
      text('message'),
      text('id'),
      { name: 'raised_at', type: 'timestamptz', notNull: true },
    ],
    primaryKey: ['site', 'equipment', 'device', 'rack', 'rule', 'level', 'state', 'time'],
    segmentBy: ['site', 'equipment', 'device', 'rack', 'rule'],
  },
  alarm_actions: {
    name: 'alarm_actions',
    columns: [
      text('id'),
      time,
      text('action'),
      text('site'),
      text('equipment'),
      text('device'),
      rack,
      text('rule'),
      { name: 'episode', type: 'text', notNull: false },
      { name: 'level', type: 'text', notNull: false },
      text('done_by'),
      text('comment'),
      { name: 'shelved_until', type: 'timestamptz', notNull: false },
    ],
    primaryKey: ['id', 'time'],
    segmentBy: ['site', 'equipment', 'device', 'rack', 'rule'],
  },
};

export const TABLE_NAMES = Object.keys(TABLES) as TableName[];

export const qualified = (schema: string, table: string) => `${ident(schema)}.${ident(table)}`;

/** CREATE TABLE IF NOT EXISTS of one table, with its primary key (the upsert's conflict target). */
export function createTableSql(schema: string, def: TableDefinition): string {
  const columns = def.columns.map(
    (c) =>
      `  ${ident(c.name)} ${c.type}${c.notNull ? ' NOT NULL' : ''}${c.default ? ` DEFAULT ${c.default}` : ''}`,
  );
  return `CREATE TABLE IF NOT EXISTS ${qualified(schema, def.name)} (\n${columns.join(',\n')},\n  PRIMARY KEY (${def.primaryKey.map(ident).join(', ')})\n)`;
}

/**
 * A time index for queries over every series of a range (a day's export, "what happened at 14:00"): the
 * primary key leads with the series. BRIN: a few pages for a whole table of rows that arrive roughly in time
 * order, and next to nothing per insert. (A hypertable gets TimescaleDB's own b-tree on time instead.)
 */
export function createTimeIndexSql(schema: string, def: TableDefinition): string {
  return `CREATE INDEX IF NOT EXISTS ${ident(`${def.name}_time_brin`)} ON ${qualified(schema, def.name)} USING brin ("time")`;
}

/** The staging table of one connection: COPY lands here, then one INSERT … SELECT moves it. */
export const stageName = (table: TableName) => `gs_stage_${table}`;

/**
 * A temporary table per connection, emptied at every commit. Untyped constraints: the real table's own
 * (NOT NULL, a DBA's CHECK) refuse a row at the INSERT, where their names appear in the server's message.
 */
export function createStageSql(def: TableDefinition): string {
  const columns = def.columns.map((c) => `${ident(c.name)} ${c.type}`);
  return `CREATE TEMP TABLE IF NOT EXISTS ${ident(stageName(def.name))} (${columns.join(', ')}) ON COMMIT DELETE ROWS`;
}

export function copyStageSql(def: TableDefinition): string {
  return `COPY pg_temp.${ident(stageName(def.name))} (${def.columns.map((c) => ident(c.name)).join(', ')}) FROM STDIN`;
}

/** COPY straight into the table: the fast path, for a batch whose rows are all new (docs/timescale-writer.md). */
export function copyDirectSql(schema: string, def: TableDefinition): string {
  return `COPY ${qualified(schema, def.name)} (${def.columns.map((c) => ident(c.name)).join(', ')}) FROM STDIN`;
}

/**
 * Staging → table, a row that exists overwritten by the new one: a redelivered reading writes the same
 * values again, so the WHERE leaves it untouched (no dead tuple for a replay). Without ORDER BY: a scan of
 * the freshly filled staging table returns the rows in the order they were copied, which is the batch's
 * key order (rowsByTable), the one order every write inserts in.
 */
export function upsertSql(schema: string, def: TableDefinition): string {
  const names = def.columns.map((c) => ident(c.name));
  const others = def.columns.filter((c) => !def.primaryKey.includes(c.name)).map((c) => ident(c.name));
  const set = others.map((c) => `${c} = EXCLUDED.${c}`).join(', ');
  const changed = `(${others.map((c) => `t.${c}`).join(', ')}) IS DISTINCT FROM (${others.map((c) => `EXCLUDED.${c}`).join(', ')})`;
  return (
    `INSERT INTO ${qualified(schema, def.name)} AS t (${names.join(', ')}) ` +
    `SELECT ${names.join(', ')} FROM pg_temp.${ident(stageName(def.name))} ` +
    `ON CONFLICT (${def.primaryKey.map(ident).join(', ')}) DO UPDATE SET ${set} WHERE ${changed}`
  );
}
