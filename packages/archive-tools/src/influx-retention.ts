import { executeInflux, type InfluxConfig, queryInflux } from '@gridstream/influx';

/**
 * "Keep N days hot": InfluxDB drops whole shards once they are older than the retention policy's
 * duration. This changes the DEFAULT policy of the database in place (ALTER) rather than adding a new
 * default one: a new default policy would leave every existing point in the old policy, where queries
 * that do not name it no longer see it. Only when the database has no default policy is one created.
 */

export interface RetentionPlan {
  database: string;
  policy: string;
  action: 'alter' | 'create';
  /** InfluxQL that applies the plan. */
  statement: string;
  /** Data older than this instant goes at the next retention check (every 30 min by default). */
  cutoff?: Date;
}

function quote(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Shard groups must not be longer than the policy, and short shards let expired data go sooner. */
export function shardDurationFor(days: number): string {
  if (days === 0) return '7d';
  if (days < 2) return '1h';
  if (days <= 180) return '1d';
  return '7d';
}

/** `days` = 0 keeps data forever (INF). */
export async function planRetention(
  cfg: InfluxConfig,
  days: number,
  createName = 'hot',
): Promise<RetentionPlan> {
  if (!Number.isInteger(days) || days < 0)
    throw new Error('--days must be a whole number of days (0 = forever)');
  const series = await queryInflux(cfg, `SHOW RETENTION POLICIES ON ${quote(cfg.database)}`);
  const rows = series[0]?.values ?? [];
  const columns = series[0]?.columns ?? [];
  const nameAt = columns.indexOf('name');
  const defaultAt = columns.indexOf('default');
  const current = rows.find((r) => r[defaultAt] === true);
  const duration = days === 0 ? 'INF' : `${days}d`;
  const tail = `DURATION ${duration} REPLICATION 1 SHARD DURATION ${shardDurationFor(days)} DEFAULT`;
  const cutoff = days === 0 ? undefined : new Date(Date.now() - days * 86_400_000);
  if (current !== undefined) {
    const policy = String(current[nameAt]);
    return {
      database: cfg.database,
      policy,
      action: 'alter',
      statement: `ALTER RETENTION POLICY ${quote(policy)} ON ${quote(cfg.database)} ${tail}`,
      cutoff,
    };
  }
  return {
    database: cfg.database,
    policy: createName,
    action: 'create',
    statement: `CREATE RETENTION POLICY ${quote(createName)} ON ${quote(cfg.database)} ${tail}`,
    cutoff,
  };
}

export async function applyRetention(cfg: InfluxConfig, plan: RetentionPlan): Promise<void> {
  await executeInflux(cfg, plan.statement, cfg.database);
}
