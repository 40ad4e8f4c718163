import type { AlarmRule, QualityConfig } from '@gridstream/quality';
import { targetLevel } from '@gridstream/quality';
import type { ForecastMessage } from '@gridstream/schema';
import { type AlarmEvent, AlarmEventSchema, type AlarmLevel, alarmKey } from '@gridstream/schema';
import type { SeriesConfig } from './forecast-series-config.js';

/** Every early warning's rule name starts so: beside the real alarm it announces, never mistaken for it. */
export const PREDICTED_PREFIX = 'predicted_';
const LEVEL_NAME: Record<1 | 2, AlarmLevel> = { 1: 'warning', 2: 'fault' };
const LEVEL_OF: Record<AlarmLevel, 1 | 2> = { warning: 1, fault: 2 };
const RULE_NAME = /^[a-z][a-z0-9_]{0,62}$/;

/**
 * The rules whose levels a series' forecast is held against: the QUALITY_CONFIG alarm rules that watch this
 * very field of this equipment/device/rack (a rule on a derived value, `a - b` or `abs(x)`, cannot be
 * checked against one forecast series and is left out), and the series' own band. Names get the
 * `predicted_` prefix; one that would pass 63 characters is left out and reported.
 */
export function rulesFor(
  s: SeriesConfig,
  quality: QualityConfig | undefined,
): { rules: AlarmRule[]; skipped: string[] } {
  const rules: AlarmRule[] = [];
  const skipped: string[] = [];
  for (const r of quality?.alarms ?? []) {
    const e = r.expression;
    if (e.right !== undefined || e.abs || e.left !== s.field) continue;
    if (!r.equipment(s.equipment) || (r.device && !r.device(s.device))) continue;
    if (r.rack && (s.rack === undefined || !r.rack(s.rack))) continue;
    rules.push({ ...r, name: PREDICTED_PREFIX + r.name });
  }
  const band = s.band;
  if (band) {
    const both = band.low !== undefined && band.high !== undefined;
    const base = {
      equipment: () => true,
      expression: { text: s.field, left: s.field, abs: false },
      hysteresis: band.hysteresis,
      minDurationMs: 0,
    };
    const at = (t: number) => (band.level === 'fault' ? { fault: t } : { warning: t });
    if (band.low !== undefined)
      rules.push({
        ...base,
        name: `${PREDICTED_PREFIX}${band.rule}${both ? '_low' : ''}`,
        direction: 'below',
        ...at(band.low),
      });
    if (band.high !== undefined)
      rules.push({
        ...base,
        name: `${PREDICTED_PREFIX}${band.rule}${both ? '_high' : ''}`,
        direction: 'above',
        ...at(band.high),
      });
  }
  for (const r of rules) if (!RULE_NAME.test(r.name)) skipped.push(r.name);
  return { rules: rules.filter((r) => RULE_NAME.test(r.name)), skipped };
}

interface Episode {
  id: string;
  raisedAt: string;
  level: 1 | 2;
}

/**
 * Early warnings: a forecast whose predicted values pass a rule's threshold raises a `predicted_<rule>`
 * episode on the alarms topic, with the rule's hysteresis — the same one-episode-per-excursion behaviour
 * as the real alarm. Each forecast moves the episode on (escalated, deescalated) and the first forecast
 * back inside the band (by the hysteresis) clears it. State is rebuilt from the alarms topic at start.
 */
export class PredictedAlarms {
  private readonly episodes = new Map<string, Episode>();

  /** Latest events from the (compacted) alarms topic: open predicted episodes carry on after a restart. */
  restore(values: Iterable<Buffer | null>): number {
    const latest = new Map<string, AlarmEvent>();
    for (const value of values) {
      if (value === null) continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(value.toString('utf8'));
      } catch {
        continue;
      }
      const r = AlarmEventSchema.safeParse(parsed);
      if (!r.success || !r.data.rule.startsWith(PREDICTED_PREFIX)) continue;
      const k = alarmKey(r.data);
      const prev = latest.get(k);
      if (prev === undefined || Date.parse(r.data.ts) >= Date.parse(prev.ts)) latest.set(k, r.data);
    }
    this.episodes.clear();
    for (const [k, e] of latest)
      if (e.state !== 'cleared')
        this.episodes.set(k, { id: e.id, raisedAt: e.raisedAt, level: LEVEL_OF[e.level] });
    return this.episodes.size;
  }

  /**
   * The events one forecast causes (none while the level stays), and `commit` to take them as the new
   * state once they are published: an event that never reached Kafka must be produced again next time.
   */
  evaluate(
    rules: readonly AlarmRule[],
    forecast: ForecastMessage,
  ): { events: AlarmEvent[]; commit: () => void } {
    const events: AlarmEvent[] = [];
    const updates: (() => void)[] = [];
    for (const rule of rules) {
      const ids = {
        site: forecast.site,
        equipment: forecast.equipment,
        device: forecast.device,
        ...(forecast.rack === undefined ? {} : { rack: forecast.rack }),
        rule: rule.name,
      };
      const key = alarmKey(ids);
      const open = this.episodes.get(key);
      const current = open?.level ?? 0;
      // The worst level any predicted value asks for, and the first value that asks for it.
      let target: 0 | 1 | 2 = 0;
      let at = forecast.points[0]!;
      for (const p of forecast.points) {
        const level = targetLevel(rule, p.mean, current);
        if (level > target) {
          target = level;
          at = p;
        }
      }
      if (target === current) continue;
      const extreme = forecast.points.reduce(
        (x, p) => (rule.direction === 'above' ? Math.max(x, p.mean) : Math.min(x, p.mean)),
        rule.direction === 'above' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY,
      );
      const issued = forecast.issuedAt;
      const state =
        current === 0 ? 'raised' : target === 0 ? 'cleared' : target > current ? 'escalated' : 'deescalated';
      const episode: Episode = open ?? { id: `${key}@${issued}`, raisedAt: issued, level: target as 1 | 2 };
      const level = target === 0 ? LEVEL_NAME[current as 1 | 2] : LEVEL_NAME[target];
      const threshold =
        target === 0 ? release(rule, current as 1 | 2) : ((target === 2 ? rule.fault : rule.warning) ?? null);
      const inMin = Math.round((Date.parse(at.ts) - Date.parse(issued)) / 60_000);
      const message =
        target === 0
          ? `forecast back inside the limits: ${forecast.field} predicted ${rule.direction === 'above' ? 'at most' : 'at least'} ${round(extreme)} over the next ${forecast.points.length} steps (${forecast.model})`
          : `${forecast.field} predicted ${round(at.mean)} ${rule.direction === 'above' ? '>' : '<'} ${threshold} (${level}) at ${at.ts}, in ${inMin} min (${forecast.model})`;
      events.push({
        v: 1,
        id: episode.id,
        ...ids,
        field: forecast.field,
        state,
        level,
        value: target === 0 ? extreme : at.mean,
        threshold,
        raisedAt: episode.raisedAt,
        ts: issued,
        message,
      });
      updates.push(() => {
        if (target === 0) this.episodes.delete(key);
        else this.episodes.set(key, { ...episode, level: target });
      });
    }
    return {
      events,
      commit: () => {
        for (const update of updates) update();
      },
    };
  }
}

function release(rule: AlarmRule, level: 1 | 2): number {
  const t = level === 2 && rule.fault !== undefined ? rule.fault : (rule.warning ?? rule.fault)!;
  return rule.direction === 'above' ? t - rule.hysteresis : t + rule.hysteresis;
}

const round = (v: number) => Math.round(v * 1000) / 1000;
