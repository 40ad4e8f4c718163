import type { PgRow, TableName } from './pg-rows.js';

/**
 * A batch's rows per table, each identity once, the later row winning (a record delivered twice in one
 * batch, an alarm event resent), in identity order. PostgreSQL refuses an upsert that meets one key twice
 * ("ON CONFLICT DO UPDATE command cannot affect row a second time"), and a COPY that does (a duplicate
 * key): without this, one duplicate would fail the whole batch. The order is one total order of keys
 * that every write inserts in, so two writes holding some of the same new rows (a rebalance re-reads what
 * another member is still writing) wait for each other in one direction and cannot deadlock.
 */
export function rowsByTable(rows: readonly PgRow[]): Map<TableName, PgRow[]> {
  const byTable = new Map<TableName, Map<string, PgRow>>();
  for (const row of rows) {
    let byKey = byTable.get(row.table);
    if (byKey === undefined) {
      byKey = new Map();
      byTable.set(row.table, byKey);
    }
    byKey.set(row.line.slice(0, row.keyLength), row);
  }
  const out = new Map<TableName, PgRow[]>();
  for (const [table, byKey] of byTable) {
    const keys = [...byKey.keys()].sort();
    out.set(
      table,
      keys.map((k) => byKey.get(k)!),
    );
  }
  return out;
}
