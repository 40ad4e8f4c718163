import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  allPanels,
  DASHBOARD_FILES,
  GRAFANA_DIR,
  interpolate,
  loadDashboard,
  provisionedDatasources,
  queriesOf,
  referencedVariables,
} from './grafana-dashboards.js';

/** The provisioned Grafana files are consistent on their own; grafana-dashboards.int.test.ts runs them. */
const datasources = provisionedDatasources();

describe('Grafana provisioning', () => {
  it('provisions the two InfluxDB datasources the dashboards use, with the databases the services write', () => {
    expect(datasources.get('gridstream-influx')).toEqual({
      type: 'influxdb',
      url: 'http://influxdb:8086',
      database: 'gridstream', // INFLUX_DATABASE's default (the influx-writer)
    });
    expect(datasources.get('gridstream-metrics')).toEqual({
      type: 'influxdb',
      url: 'http://influxdb:8086',
      database: 'gridstream_metrics', // METRICS_INFLUX_DB's default
    });
  });

  it('loads the dashboards from the folder they are mounted at', () => {
    const doc = parse(
      readFileSync(join(GRAFANA_DIR, 'provisioning', 'dashboards', 'gridstream.yaml'), 'utf8'),
    );
    expect(doc.providers[0]).toMatchObject({
      type: 'file',
      options: { path: '/var/lib/grafana/dashboards' },
    });
  });
});

const uids = new Set<string>();
for (const file of DASHBOARD_FILES) {
  describe(`dashboard ${file}.json`, () => {
    const dashboard = loadDashboard(file);

    it('parses, has a stable uid of its own and a current schema version', () => {
      expect(dashboard.uid).toMatch(/^gridstream-[a-z-]+$/);
      expect(uids.has(dashboard.uid), `uid ${dashboard.uid} used twice`).toBe(false);
      uids.add(dashboard.uid);
      expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
      expect((dashboard as unknown as { id: unknown }).id ?? null).toBeNull();
    });

    it('has unique panel ids', () => {
      const ids = allPanels(dashboard).map((p) => p.id);
      expect(ids.every((id) => typeof id === 'number')).toBe(true);
      expect(new Set(ids).size).toBe(ids.length);
    });

    it('queries only provisioned datasources, with raw InfluxQL on every panel target', () => {
      const queries = queriesOf(file, dashboard);
      expect(queries.length).toBeGreaterThan(5);
      for (const q of queries) {
        expect(datasources.has(q.datasourceUid), `${q.where}: datasource "${q.datasourceUid}"`).toBe(true);
        expect(q.query, q.where).toMatch(/^(SELECT|SHOW) /);
      }
      for (const panel of allPanels(dashboard)) {
        if (panel.type === 'row') continue;
        expect(panel.targets?.length, `panel "${panel.title}" has no query`).toBeGreaterThan(0);
        expect(datasources.has(panel.datasource?.uid ?? ''), `panel "${panel.title}"`).toBe(true);
        for (const t of panel.targets ?? [])
          expect(t.rawQuery, `panel "${panel.title}" ${t.refId}`).toBe(true);
      }
    });

    it('uses the time range and interval in every time-series query, and only variables it defines', () => {
      const defined = new Set((dashboard.templating?.list ?? []).map((v) => v.name));
      for (const q of queriesOf(file, dashboard)) {
        for (const name of referencedVariables(q.query))
          expect(defined.has(name), `${q.where}: $${name}`).toBe(true);
        if (q.kind === 'variable') continue;
        expect(q.query, q.where).toContain('$timeFilter');
        if (/GROUP BY time\(/.test(q.query)) expect(q.query, q.where).toContain('GROUP BY time($__interval)');
      }
    });
  });
}

describe('interpolate', () => {
  it('substitutes the time filter, the interval and variables as Grafana does', () => {
    const q = interpolate(
      `SELECT mean("soc") FROM "battery" WHERE "site" =~ /^$site$/ AND "device" =~ /^\${battery}$/ AND $timeFilter GROUP BY time($__interval)`,
      {
        fromMs: 1000,
        toMs: 2000,
        interval: '10s',
        variables: { site: ['000001'], battery: ['01', 'a.b'] },
        regexVariables: new Set(['battery']),
      },
    );
    expect(q).toBe(
      `SELECT mean("soc") FROM "battery" WHERE "site" =~ /^000001$/ AND "device" =~ /^(01|a\\.b)$/ AND time >= 1000ms and time <= 2000ms GROUP BY time(10s)`,
    );
  });
  it('refuses a variable that is not defined', () => {
    expect(() =>
      interpolate('SELECT 1 WHERE $nope', { fromMs: 0, toMs: 1, interval: '1s', variables: {} }),
    ).toThrow(/unknown variable/);
  });
});
