import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/**
 * Reads the provisioned Grafana files (deploy/grafana) and turns every query in them into InfluxQL the way
 * Grafana's InfluxDB datasource would send it, so tests can run the dashboards without a Grafana.
 */
export const GRAFANA_DIR = join(import.meta.dirname, '..', 'deploy', 'grafana');
export const DASHBOARD_FILES = ['microgrid-overview', 'ess-site', 'pipeline-health', 'forecast'] as const;

export interface DatasourceRef {
  type?: string;
  uid?: string;
}

export interface GrafanaTarget {
  refId?: string;
  datasource?: DatasourceRef;
  query?: string;
  rawQuery?: boolean;
  resultFormat?: string;
}

export interface GrafanaPanel {
  id?: number;
  type: string;
  title?: string;
  datasource?: DatasourceRef;
  targets?: GrafanaTarget[];
  panels?: GrafanaPanel[];
}

export interface GrafanaVariable {
  name: string;
  type: string;
  query?: string | { query?: string };
  datasource?: DatasourceRef;
  multi?: boolean;
  includeAll?: boolean;
}

export interface GrafanaAnnotation {
  name: string;
  datasource?: DatasourceRef;
  query?: string;
  builtIn?: number;
}

export interface GrafanaDashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: GrafanaPanel[];
  templating?: { list: GrafanaVariable[] };
  annotations?: { list: GrafanaAnnotation[] };
}

export function loadDashboard(file: string): GrafanaDashboard {
  return JSON.parse(
    readFileSync(join(GRAFANA_DIR, 'dashboards', `${file}.json`), 'utf8'),
  ) as GrafanaDashboard;
}

/** uid → database of the provisioned InfluxDB datasources. */
export function provisionedDatasources(): Map<string, { database: string; type: string; url: string }> {
  const doc = parse(
    readFileSync(join(GRAFANA_DIR, 'provisioning', 'datasources', 'influxdb.yaml'), 'utf8'),
  ) as {
    datasources: { uid: string; type: string; url: string; jsonData?: { dbName?: string } }[];
  };
  return new Map(
    doc.datasources.map((d) => [d.uid, { database: d.jsonData?.dbName ?? '', type: d.type, url: d.url }]),
  );
}

/** Every panel, including those inside (collapsed) rows. */
export function allPanels(dashboard: GrafanaDashboard): GrafanaPanel[] {
  const out: GrafanaPanel[] = [];
  for (const panel of dashboard.panels) {
    out.push(panel);
    for (const inner of panel.panels ?? []) out.push(inner);
  }
  return out;
}

export interface DashboardQuery {
  /** `dashboard › panel "title" (refId)`, `… annotation "name"`, `… variable $name`: named in failures. */
  where: string;
  kind: 'panel' | 'annotation' | 'variable';
  datasourceUid: string;
  query: string;
}

export function queriesOf(file: string, dashboard: GrafanaDashboard): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  for (const panel of allPanels(dashboard)) {
    for (const t of panel.targets ?? []) {
      out.push({
        where: `${file} › panel ${panel.id} "${panel.title}" (${t.refId})`,
        kind: 'panel',
        datasourceUid: t.datasource?.uid ?? panel.datasource?.uid ?? '',
        query: t.query ?? '',
      });
    }
  }
  for (const a of dashboard.annotations?.list ?? []) {
    if (a.builtIn) continue;
    out.push({
      where: `${file} › annotation "${a.name}"`,
      kind: 'annotation',
      datasourceUid: a.datasource?.uid ?? '',
      query: a.query ?? '',
    });
  }
  for (const v of dashboard.templating?.list ?? []) {
    if (v.type !== 'query') continue;
    out.push({
      where: `${file} › variable $${v.name}`,
      kind: 'variable',
      datasourceUid: v.datasource?.uid ?? '',
      query: variableQuery(v),
    });
  }
  return out;
}

export function variableQuery(v: GrafanaVariable): string {
  return typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
}

export interface Interpolation {
  fromMs: number;
  toMs: number;
  /** e.g. `10s`: what Grafana puts for $__interval / $interval. */
  interval: string;
  /** Variable values; several values (a multi-value or "All" selection) become a regex alternation. */
  variables: Record<string, string[]>;
  /** Variables declared multi or includeAll: Grafana regex-escapes their values. */
  regexVariables?: ReadonlySet<string>;
}

// Grafana's InfluxDB datasource escapes these in values of multi-value / All variables used in /regex/.
const escapeRegex = (value: string) => value.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');

/**
 * `$timeFilter`, `$__interval`/`$interval` and `$var` / `${var}` / `[[var]]` as Grafana's InfluxDB
 * datasource substitutes them. Throws on a variable the dashboard does not define, which would reach
 * InfluxDB as literal text and fail (or worse, match nothing) in Grafana too.
 */
export function interpolate(query: string, ctx: Interpolation): string {
  return query.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]/g, (whole, a, b, c) => {
    const name = (a ?? b ?? c) as string;
    if (name === 'timeFilter') return `time >= ${ctx.fromMs}ms and time <= ${ctx.toMs}ms`;
    if (name === '__interval' || name === 'interval') return ctx.interval;
    const values = ctx.variables[name];
    if (values === undefined) throw new Error(`unknown variable ${whole} in: ${query}`);
    const regex = ctx.regexVariables?.has(name) ?? false;
    if (values.length === 1) return regex ? escapeRegex(values[0] as string) : (values[0] as string);
    return `(${values.map(escapeRegex).join('|')})`;
  });
}

/** Names of the variables a query refers to (without the built-ins). */
export function referencedVariables(query: string): string[] {
  const names = new Set<string>();
  for (const m of query.matchAll(/\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]/g)) {
    const name = (m[1] ?? m[2] ?? m[3]) as string;
    if (name !== 'timeFilter' && name !== '__interval' && name !== 'interval') names.add(name);
  }
  return [...names];
}
