import {
  type Crawler,
  type CrawlerHistory,
  CreateCrawlerCommand,
  GetCrawlerCommand,
  GetCrawlerMetricsCommand,
  type GlueClient,
  ListCrawlsCommand,
  StartCrawlerCommand,
} from '@aws-sdk/client-glue';
import { sleep } from '@gridstream/runtime';
import { tableLocation } from './glue-table.js';

/**
 * The original workflow, for users who prefer it: a Glue crawler over the archive prefix that infers the
 * table and its partitions. gridstream's own table (partition projection) makes this unnecessary; the
 * crawled table gets a name prefix (`crawled_` by default) so a crawl never replaces the projected table.
 */

export interface CrawlerSpec {
  name: string;
  role: string;
  database: string;
  bucket: string;
  prefix: string;
  tablePrefix: string;
}

export interface CrawlerRunOptions {
  timeoutMs?: number;
  /** First poll interval; grows by half up to `maxPollMs`. */
  pollMs?: number;
  maxPollMs?: number;
  onState?: (state: string, elapsedMs: number) => void;
}

export interface CrawlerRunResult {
  created: boolean;
  /** SUCCEEDED, FAILED or CANCELLED, as Glue reports the last crawl. */
  status: string;
  errorMessage?: string;
  /** The crawl's own summary from the crawl history (JSON text of tables/partitions added etc.). */
  summary?: string;
  tablesCreated?: number;
  tablesUpdated?: number;
  elapsedMs: number;
}

function isNamed(error: unknown, name: string): boolean {
  return (error as { name?: string } | null)?.name === name;
}

export async function runCrawler(
  glue: GlueClient,
  spec: CrawlerSpec,
  options: CrawlerRunOptions = {},
): Promise<CrawlerRunResult> {
  const timeoutMs = options.timeoutMs ?? 30 * 60_000;
  const started = Date.now();
  let created = false;
  try {
    await glue.send(new GetCrawlerCommand({ Name: spec.name }));
  } catch (error) {
    if (!isNamed(error, 'EntityNotFoundException')) throw error;
    await glue.send(
      new CreateCrawlerCommand({
        Name: spec.name,
        Role: spec.role,
        DatabaseName: spec.database,
        TablePrefix: spec.tablePrefix,
        Targets: { S3Targets: [{ Path: tableLocation(spec) }] },
        SchemaChangePolicy: { UpdateBehavior: 'UPDATE_IN_DATABASE', DeleteBehavior: 'LOG' },
        // One table for the whole prefix (dt folders become partitions), not one table per folder.
        Configuration: JSON.stringify({
          Version: 1.0,
          Grouping: { TableGroupingPolicy: 'CombineCompatibleSchemas' },
        }),
      }),
    );
    created = true;
  }
  try {
    await glue.send(new StartCrawlerCommand({ Name: spec.name }));
  } catch (error) {
    // Someone else's run is in progress: waiting for it gives the same end state as our own run would.
    if (!isNamed(error, 'CrawlerRunningException')) throw error;
  }
  let pollMs = options.pollMs ?? 2_000;
  const maxPollMs = options.maxPollMs ?? 15_000;
  let crawler: Crawler | undefined;
  let latest: CrawlerHistory | undefined;
  for (;;) {
    // The crawl history carries the summary (what was added/updated). Optional: a role without
    // glue:ListCrawls still gets the state from GetCrawler. (moto also advances a crawl only here.)
    latest = (await latestCrawl(glue, spec.name)) ?? latest;
    crawler = (await glue.send(new GetCrawlerCommand({ Name: spec.name }))).Crawler;
    const state = crawler?.State ?? 'UNKNOWN';
    options.onState?.(state, Date.now() - started);
    if (state === 'READY') break;
    if (Date.now() - started > timeoutMs) {
      throw new Error(
        `crawler ${spec.name} still ${state} after ${Math.round(timeoutMs / 1000)} s; it keeps running in Glue`,
      );
    }
    await sleep(pollMs);
    pollMs = Math.min(maxPollMs, Math.ceil(pollMs * 1.5));
  }
  const result: CrawlerRunResult = {
    created,
    status: crawler?.LastCrawl?.Status ?? 'UNKNOWN',
    errorMessage: crawler?.LastCrawl?.ErrorMessage ?? latest?.ErrorMessage,
    summary: latest?.Summary,
    elapsedMs: Date.now() - started,
  };
  try {
    const metrics = await glue.send(new GetCrawlerMetricsCommand({ CrawlerNameList: [spec.name] }));
    const m = metrics.CrawlerMetricsList?.[0];
    result.tablesCreated = m?.TablesCreated;
    result.tablesUpdated = m?.TablesUpdated;
  } catch {
    // Metrics are a nicety; an emulator or a role without glue:GetCrawlerMetrics should not fail the run.
  }
  return result;
}

async function latestCrawl(glue: GlueClient, name: string): Promise<CrawlerHistory | undefined> {
  try {
    const crawls =
      (await glue.send(new ListCrawlsCommand({ CrawlerName: name, MaxResults: 100 }))).Crawls ?? [];
    return crawls.reduce<CrawlerHistory | undefined>(
      (a, c) => (a === undefined || (c.StartTime?.getTime() ?? 0) >= (a.StartTime?.getTime() ?? 0) ? c : a),
      undefined,
    );
  } catch {
    return undefined;
  }
}
