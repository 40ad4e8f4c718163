import {
  type AlarmEvent,
  AlarmEventSchema,
  type AlarmLevel,
  alarmKey,
  type ParsedRecord,
  QUALITY_FLAGS,
  type QualityFlag,
} from '@gridstream/schema';
import { evaluate } from './expression.js';
import { Journal, type Undoable } from './journal.js';
import type { AlarmRule, ExpectedDevice, FieldRule, QualityConfig } from './quality-config.js';

/**
 * The quality stage: flags values (range, rate of change, stale, flatline, anomaly) in record.quality and
 * turns threshold crossings and silent devices into alarm episodes. Pure and synchronous: the parser hands
 * it each slice's records with the partition they came from and gets back the alarm events to produce in
 * the same batch. Never throws on input; a bug shows up as a counted error on that record, not a crash.
 *
 * State is per Kafka partition (raw messages are keyed by site, so all of a site's series are in one
 * partition, in order): a revoked partition's state is dropped and rebuilt by whoever owns it next.
 */

/** Per series (site, equipment, device, rack, field): what the stateful checks remember. */
class SeriesState implements Undoable {
  tx = 0;
  /** Consecutive records whose source timestamp did not advance. */
  repeats = 0;
  flatCount = 1;
  private saved: [number, number, number, number, number] = [0, 0, 0, 0, 1];
  constructor(
    public lastTs: number,
    public lastValue: number,
    public flatValue: number,
  ) {}
  save(): void {
    const b = this.saved;
    b[0] = this.lastTs;
    b[1] = this.lastValue;
    b[2] = this.repeats;
    b[3] = this.flatValue;
    b[4] = this.flatCount;
  }
  restore(): void {
    const b = this.saved;
    this.lastTs = b[0];
    this.lastValue = b[1];
    this.repeats = b[2];
    this.flatValue = b[3];
    this.flatCount = b[4];
  }
}

/** One alarm (rule × record identity) and its open episode, if any. */
class AlarmState implements Undoable {
  tx = 0;
  /** 0 none, 1 warning, 2 fault. */
  level: 0 | 1 | 2 = 0;
  id = '';
  raisedAt = '';
  /** Source time of the newest record evaluated; older or equal ones are ignored (redelivery, disorder). */
  lastTs = Number.NEGATIVE_INFINITY;
  /** Source time since which the value has asked for a higher level (minimum duration). */
  pendingSince: number | undefined = undefined;
  private saved: [0 | 1 | 2, string, string, number, number | undefined] = [0, '', '', 0, undefined];
  save(): void {
    this.saved = [this.level, this.id, this.raisedAt, this.lastTs, this.pendingSince];
  }
  restore(): void {
    [this.level, this.id, this.raisedAt, this.lastTs, this.pendingSince] = this.saved;
  }
}

/** An active episode read back from the alarms topic. */
interface RestoredEpisode {
  tx: number;
  level: 1 | 2;
  id: string;
  raisedAt: string;
  lastTs: number;
}

interface MissingState {
  tx: number;
  lastSeenMs: number;
  level: 0 | 1 | 2;
  id: string;
  raisedAt: string;
}

/** State of one record identity (site, equipment, device, rack) in one partition. */
interface RecordState {
  tx: number;
  series: Map<string, SeriesState>;
  /** By index in the identity's alarm rules. */
  alarms: (AlarmState | undefined)[];
}

interface PartitionState {
  records: Map<string, RecordState>;
  /** Last raw offset of the newest committed slice; -1 before any. */
  appliedTo: bigint;
  /** The newest committed slice, until a later slice shows its Kafka offset commit went through. */
  last: SliceUndo | undefined;
}

/**
 * What rewinds the series state to before one slice. The stage's state is committed when the slice's
 * produce succeeds, but the Kafka offset commit comes after; if that fails (REBALANCE_IN_PROGRESS, or a
 * rebalance that leaves the partition here) the same slice comes back to this process. Checked against the
 * advanced state, every record of it would be a repeat (false `stale`, lost flatline/rate_of_change): the
 * same records produced again with different flags. Rewound first, the slice gets exactly the same flags.
 */
interface SliceUndo {
  from: bigint;
  to: bigint;
  /** Series saved in the slice's transaction: SeriesState.saved holds their values from before it. */
  saved: SeriesState[];
  /** Series the slice created. */
  created: [Map<string, SeriesState>, string][];
}

/** First and last raw offset of a slice (the messages the records were parsed from). */
export interface SliceOffsets {
  first: string;
  last: string;
}

/** What is resolved once per (equipment, device, rack): the checks per field and the alarm rules. */
interface Identity {
  checks: Map<string, ResolvedChecks | null>;
  alarmRules: AlarmRule[];
}

/** Merged checks for one field of one record identity; null = nothing to check. */
interface ResolvedChecks {
  min: number;
  max: number;
  hasRange: boolean;
  rate: number;
  staleAfter: number;
  flatSamples: number;
  flatTolerance: number;
  anomaly: boolean;
  stateful: boolean;
}

export interface StageResult {
  events: AlarmEvent[];
  /** Flags the stage added, by flag (source flags not counted). */
  flagsAdded: Partial<Record<QualityFlag, number>>;
  /** Records the stage could not check because of an internal error (left as they were). */
  errors: number;
  /**
   * A slice at or below offsets already applied: `exact` = rewound to the state before it (same flags as
   * the first time); `reset` = no such record kept, the partition's series state started over.
   */
  redelivery?: 'exact' | 'reset';
}

export interface Fence {
  lower: number;
  upper: number;
}

export interface QualityStageOptions {
  /** Wall clock for missing devices, in ms; injectable for tests. */
  clock?: () => number;
  /** Called with an unexpected error (a bug); the record is produced unchecked. */
  onError?: (error: unknown, record: ParsedRecord) => void;
}

const LEVELS: readonly AlarmLevel[] = ['warning', 'warning', 'fault'];
const LEVEL_NUMBER: Record<AlarmLevel, 1 | 2> = { warning: 1, fault: 2 };
const FLAG_ORDER = new Map<string, number>(QUALITY_FLAGS.map((f, i) => [f, i]));
const MAX_CACHE = 200_000;
const SEP = '\u0000';

export const DEVICE_MISSING_RULE = 'device_missing';
/** The `field` of a device_missing event: it watches the arrival of records, not a value. */
export const DEVICE_MISSING_FIELD = 'records';

export function seriesKey(
  r: Pick<ParsedRecord, 'site' | 'equipment' | 'device' | 'rack'>,
  field: string,
): string {
  return `${r.site}${SEP}${r.equipment}${SEP}${r.device}${SEP}${r.rack ?? ''}${SEP}${field}`;
}

export class QualityStage {
  private readonly config: QualityConfig;
  private readonly clock: () => number;
  private readonly onError: ((error: unknown, record: ParsedRecord) => void) | undefined;
  private readonly journal = new Journal();
  private readonly partitions = new Map<number, PartitionState>();
  /** Active episodes read back from the alarms topic, adopted by a partition when its records come. */
  private readonly restored = new Map<string, RestoredEpisode>();
  private readonly missing = new Map<string, MissingState>();
  private readonly identities = new Map<string, Identity>();
  private readonly expectedByKey = new Map<string, ExpectedDevice>();
  private fences = new Map<string, Fence>();
  /** Undo of the slice in the open transaction, by partition; kept by commit(), dropped by rollback(). */
  private pending = new Map<PartitionState, SliceUndo>();
  private ownsSite: (site: string) => boolean = () => true;

  constructor(config: QualityConfig, options: QualityStageOptions = {}) {
    this.config = config;
    this.clock = options.clock ?? Date.now;
    this.onError = options.onError;
    for (const d of config.expectedDevices) this.expectedByKey.set(deviceKey(d), d);
  }

  /** True when the configuration asks for anything at all (otherwise the parser skips the stage). */
  get enabled(): boolean {
    return (
      this.config.fieldRules.length > 0 ||
      this.config.alarms.length > 0 ||
      this.config.expectedDevices.length > 0
    );
  }

  get hasExpectedDevices(): boolean {
    return this.config.expectedDevices.length > 0;
  }

  /**
   * After a rebalance: keep the state of the partitions still owned, drop the rest (their new owner
   * rebuilds it), and watch for missing devices only at the sites this member now owns.
   */
  assign(partitions: readonly number[], ownsSite: (site: string) => boolean = () => true): void {
    const keep = new Set(partitions);
    for (const p of [...this.partitions.keys()]) if (!keep.has(p)) this.partitions.delete(p);
    this.ownsSite = ownsSite;
    for (const key of [...this.missing.keys()]) {
      const device = this.expectedByKey.get(key);
      if (!device || !ownsSite(device.site)) this.missing.delete(key);
    }
    this.restored.clear();
    this.journal.commit();
  }

  /**
   * Active episodes from the alarms topic (every event, oldest first): the latest event per alarm key
   * decides; episodes not cleared are continued instead of raised a second time. Invalid events are
   * skipped, never fatal: a bad message in the topic must not stop the parser from starting.
   */
  restore(events: Iterable<unknown>): number {
    const latest = new Map<string, AlarmEvent>();
    for (const raw of events) {
      const parsed = AlarmEventSchema.safeParse(raw);
      if (parsed.success) latest.set(alarmKey(parsed.data), parsed.data);
    }
    let active = 0;
    for (const [key, e] of latest) {
      if (e.state === 'cleared') continue;
      const level = LEVEL_NUMBER[e.level];
      const ts = Date.parse(e.ts);
      if (e.rule === DEVICE_MISSING_RULE) {
        const dk = deviceKey(e);
        // Only the owner of the site's partition watches the device (and so continues its episode).
        if (!this.expectedByKey.has(dk) || !this.ownsSite(e.site)) continue;
        this.missing.set(dk, { tx: 0, lastSeenMs: this.clock(), level, id: e.id, raisedAt: e.raisedAt });
      } else {
        this.restored.set(key, {
          tx: 0,
          level,
          id: e.id,
          raisedAt: e.raisedAt,
          lastTs: ts,
        });
      }
      active++;
    }
    return active;
  }

  /** Replaces the anomaly fences (key: {@link seriesKey}). */
  setFences(fences: Map<string, Fence>): void {
    this.fences = fences;
  }

  get fenceCount(): number {
    return this.fences.size;
  }

  /**
   * Checks a slice's records in place (record.quality) and returns the alarm events they cause. The state
   * changes are provisional until {@link commit}; {@link rollback} undoes them when the slice's produce
   * failed and it will be retried.
   */
  process(records: readonly ParsedRecord[], partition: number, offsets?: SliceOffsets): StageResult {
    const result: StageResult = { events: [], flagsAdded: {}, errors: 0 };
    let state = this.partitions.get(partition);
    if (!state) {
      state = { records: new Map(), appliedTo: -1n, last: undefined };
      this.partitions.set(partition, state);
    }
    const undo = offsets === undefined ? undefined : this.beginSlice(state, offsets, result);
    for (const record of records) {
      try {
        this.processRecord(record, state, result, undo);
      } catch (error) {
        result.errors++;
        this.onError?.(error, record);
      }
    }
    return result;
  }

  commit(): void {
    for (const [state, undo] of this.pending) {
      state.last = undo;
      state.appliedTo = undo.to;
    }
    this.pending.clear();
    this.journal.commit();
  }

  rollback(): void {
    this.pending.clear();
    this.journal.rollback();
  }

  /** Rewinds the partition's series state if the slice was applied before; starts the slice's undo. */
  private beginSlice(state: PartitionState, offsets: SliceOffsets, result: StageResult): SliceUndo {
    const from = BigInt(offsets.first);
    const to = BigInt(offsets.last);
    const open = this.pending.get(state);
    if (open !== undefined) {
      // A second call in one transaction: one slice, extended.
      if (to > open.to) open.to = to;
      return open;
    }
    if (from <= state.appliedTo) {
      const last = state.last;
      if (last !== undefined && from === last.from) {
        // Outside the journal on purpose: a rollback of this retry leaves the rewound state, which the
        // next retry (same slice, `last` unchanged) rewinds to again.
        for (const s of last.saved) s.restore();
        for (const [map, key] of last.created) map.delete(key);
        result.redelivery = 'exact';
      } else {
        // Older than the one slice kept (should not happen: each slice's offset commit precedes the
        // next slice): start over like a new owner rather than flag every record as a repeat.
        for (const rs of state.records.values()) rs.series.clear();
        state.last = undefined;
        result.redelivery = 'reset';
      }
    } else {
      // A slice past the last one: the last one's offset commit went through, it will not come back.
      state.last = undefined;
    }
    const undo: SliceUndo = { from, to, saved: [], created: [] };
    this.pending.set(state, undo);
    return undo;
  }

  /**
   * Missing devices: raises `device_missing` for each expected device (at an owned site) from which no
   * record has arrived for its silentAfterSeconds, by the stage clock. Call on a timer; commit or roll
   * back like {@link process}.
   */
  checkMissing(): AlarmEvent[] {
    const now = this.clock();
    const events: AlarmEvent[] = [];
    for (const [key, device] of this.expectedByKey) {
      if (!this.ownsSite(device.site)) continue;
      let state = this.missing.get(key);
      if (!state) {
        // Watching starts now: a device never seen is missing silentAfter from the start, not at once.
        this.journal.touch(this.missing, key, undefined);
        state = { tx: 0, lastSeenMs: now, level: 0, id: '', raisedAt: '' };
        this.journal.stamp(state);
        this.missing.set(key, state);
        continue;
      }
      if (state.level !== 0 || now - state.lastSeenMs <= device.silentAfterMs) continue;
      this.journal.touch(this.missing, key, state);
      const ts = new Date(now).toISOString();
      const level = LEVEL_NUMBER[device.level];
      const base = { ...identity(device), rule: DEVICE_MISSING_RULE };
      state.level = level;
      state.raisedAt = ts;
      state.id = `${alarmKey(base)}@${ts}`;
      const silentS = device.silentAfterMs / 1000;
      events.push(
        event(
          base,
          DEVICE_MISSING_FIELD,
          'raised',
          device.level,
          null,
          silentS,
          state,
          ts,
          `no record for more than ${silentS} s`,
        ),
      );
    }
    return events;
  }

  private processRecord(
    record: ParsedRecord,
    state: PartitionState,
    result: StageResult,
    undo: SliceUndo | undefined,
  ): void {
    const tsMs = Date.parse(record.ts);
    if (this.expectedByKey.size > 0) this.seen(record, result);
    const idKey = `${record.equipment}${SEP}${record.device}${SEP}${record.rack ?? ''}`;
    const identity = this.identityFor(idKey, record);
    const rk = `${record.site}${SEP}${idKey}`;
    let rs = state.records.get(rk);
    if (rs === undefined) {
      rs = { tx: 0, series: new Map(), alarms: [] };
      this.journal.create(state.records, rk, rs);
      state.records.set(rk, rs);
    }
    const fields = record.fields;
    if (this.config.fieldRules.length > 0) {
      for (const field in fields) {
        let checks = identity.checks.get(field);
        if (checks === undefined) {
          checks = resolveChecks(this.config.fieldRules, record, field);
          if (identity.checks.size < MAX_CACHE) identity.checks.set(field, checks);
        }
        if (checks === null) continue;
        const value = fields[field]!;
        let added: QualityFlag[] | undefined;
        if (checks.hasRange && (value < checks.min || value > checks.max)) added = ['out_of_range'];
        if (checks.stateful) {
          const s = rs.series.get(field);
          if (s === undefined) {
            const fresh = new SeriesState(tsMs, value, value);
            this.journal.create(rs.series, field, fresh);
            rs.series.set(field, fresh);
            undo?.created.push([rs.series, field]);
            if (checks.flatSamples === 1) added = withFlag(added, 'flatline');
          } else {
            const tx = s.tx;
            this.journal.save(s);
            if (undo !== undefined && s.tx !== tx) undo.saved.push(s);
            if (!(tsMs > s.lastTs)) {
              // The source repeats a reading it already sent (frozen clock, cached value, redelivery).
              s.repeats++;
              if (checks.staleAfter > 0 && s.repeats >= checks.staleAfter) added = withFlag(added, 'stale');
            } else {
              s.repeats = 0;
              if (checks.rate > 0) {
                const perSecond = Math.abs(value - s.lastValue) / ((tsMs - s.lastTs) / 1000);
                if (perSecond > checks.rate) added = withFlag(added, 'rate_of_change');
              }
              if (Math.abs(value - s.flatValue) <= checks.flatTolerance) s.flatCount++;
              else {
                s.flatValue = value;
                s.flatCount = 1;
              }
              if (checks.flatSamples > 0 && s.flatCount >= checks.flatSamples)
                added = withFlag(added, 'flatline');
              s.lastTs = tsMs;
              s.lastValue = value;
            }
          }
        }
        if (checks.anomaly) {
          const fence = this.fences.get(`${rk}${SEP}${field}`);
          if (fence !== undefined && (value < fence.lower || value > fence.upper))
            added = withFlag(added, 'anomaly');
        }
        if (added !== undefined) {
          for (const flag of added) result.flagsAdded[flag] = (result.flagsAdded[flag] ?? 0) + 1;
          mergeFlags(record, field, added);
        }
      }
    }
    if (identity.alarmRules.length > 0) this.evaluateAlarms(record, tsMs, identity.alarmRules, rs, result);
  }

  /** A record from an expected device: it is not missing (any more). */
  private seen(record: ParsedRecord, result: StageResult): void {
    const key = deviceKey(record);
    const device = this.expectedByKey.get(key);
    if (device === undefined) return;
    const now = this.clock();
    const state = this.missing.get(key);
    this.journal.touch(this.missing, key, state);
    if (state === undefined) {
      const fresh: MissingState = { tx: 0, lastSeenMs: now, level: 0, id: '', raisedAt: '' };
      this.journal.stamp(fresh);
      this.missing.set(key, fresh);
      return;
    }
    state.lastSeenMs = now;
    if (state.level === 0) return;
    const silentS = device.silentAfterMs / 1000;
    const ts = new Date(now).toISOString();
    result.events.push(
      event(
        { ...identity(device), rule: DEVICE_MISSING_RULE },
        DEVICE_MISSING_FIELD,
        'cleared',
        LEVELS[state.level]!,
        null,
        silentS,
        state,
        ts,
        'records arrive again',
      ),
    );
    state.level = 0;
  }

  private evaluateAlarms(
    record: ParsedRecord,
    tsMs: number,
    rules: readonly AlarmRule[],
    rs: RecordState,
    result: StageResult,
  ): void {
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i]!;
      const value = evaluate(rule.expression, record.fields);
      if (value === undefined) continue; // a missing field does not evaluate; nothing changes
      let state = rs.alarms[i];
      if (state === undefined) {
        state = new AlarmState();
        const key = alarmKey(idsOf(record, rule));
        const adopted = this.restored.get(key);
        if (adopted !== undefined) {
          // Continues an episode that was active before the restart (read back from the alarms topic).
          this.journal.touch(this.restored, key, adopted);
          this.restored.delete(key);
          state.level = adopted.level;
          state.id = adopted.id;
          state.raisedAt = adopted.raisedAt;
          state.lastTs = adopted.lastTs;
        }
        this.journal.save(state);
        rs.alarms[i] = state;
        // Undone by resetting the slot: the list belongs to this record state only.
        const slot = i;
        const owner = rs;
        this.journal.save({
          tx: 0,
          save: () => undefined,
          restore: () => {
            owner.alarms[slot] = undefined;
          },
        });
      } else {
        this.journal.save(state);
      }
      if (!(tsMs > state.lastTs)) continue;
      state.lastTs = tsMs;
      const target = targetLevel(rule, value, state.level);
      if (target === state.level && state.pendingSince === undefined) continue; // the common case
      const ids = idsOf(record, rule);
      if (target > state.level) {
        if (rule.minDurationMs > 0) {
          state.pendingSince ??= tsMs;
          if (tsMs - state.pendingSince < rule.minDurationMs) continue;
        }
        state.pendingSince = undefined;
        const threshold = thresholdOf(rule, target as 1 | 2);
        const level = LEVELS[target]!;
        if (state.level === 0) {
          state.raisedAt = record.ts;
          state.id = `${alarmKey(ids)}@${record.ts}`;
        }
        const kind = state.level === 0 ? 'raised' : 'escalated';
        state.level = target;
        result.events.push(
          event(
            ids,
            rule.expression.text,
            kind,
            level,
            value,
            threshold,
            state,
            record.ts,
            describe(rule, value, threshold, level),
          ),
        );
      } else {
        state.pendingSince = undefined;
        if (target === state.level) continue;
        const leaving = state.level;
        state.level = target;
        if (target === 0) {
          const clearAt = releaseThreshold(rule, lowestLevel(rule));
          result.events.push(
            event(
              ids,
              rule.expression.text,
              'cleared',
              LEVELS[leaving]!,
              value,
              clearAt,
              state,
              record.ts,
              `${rule.expression.text} = ${round(value)}, back ${rule.direction === 'above' ? 'below' : 'above'} ${round(clearAt)}`,
            ),
          );
        } else {
          const release = releaseThreshold(rule, leaving);
          result.events.push(
            event(
              ids,
              rule.expression.text,
              'deescalated',
              LEVELS[target]!,
              value,
              release,
              state,
              record.ts,
              `${rule.expression.text} = ${round(value)}, back ${rule.direction === 'above' ? 'below' : 'above'} ${round(release)}`,
            ),
          );
        }
      }
    }
  }

  private identityFor(idKey: string, record: ParsedRecord): Identity {
    let identity = this.identities.get(idKey);
    if (identity !== undefined) return identity;
    identity = {
      checks: new Map(),
      alarmRules: this.config.alarms.filter(
        (r) =>
          r.equipment(record.equipment) &&
          (r.device === undefined || r.device(record.device)) &&
          (r.rack === undefined || (record.rack !== undefined && r.rack(record.rack))),
      ),
    };
    // Bounded: a source inventing device ids must not grow this without limit.
    if (this.identities.size >= MAX_CACHE) this.identities.clear();
    this.identities.set(idKey, identity);
    return identity;
  }
}

function resolveChecks(
  rules: readonly FieldRule[],
  record: ParsedRecord,
  field: string,
): ResolvedChecks | null {
  let out: ResolvedChecks | null = null;
  for (const rule of rules) {
    if (!rule.field(field) || !rule.equipment(record.equipment)) continue;
    if (rule.device !== undefined && !rule.device(record.device)) continue;
    if (rule.rackless && record.rack !== undefined) continue;
    if (rule.rack !== undefined && (record.rack === undefined || !rule.rack(record.rack))) continue;
    out ??= {
      min: Number.NEGATIVE_INFINITY,
      max: Number.POSITIVE_INFINITY,
      hasRange: false,
      rate: 0,
      staleAfter: 0,
      flatSamples: 0,
      flatTolerance: 0,
      anomaly: false,
      stateful: false,
    };
    // A later rule overrides an earlier one check by check; a range replaces the whole range.
    if (rule.range) {
      out.min = rule.range.min ?? Number.NEGATIVE_INFINITY;
      out.max = rule.range.max ?? Number.POSITIVE_INFINITY;
      out.hasRange = true;
    }
    if (rule.maxRatePerSecond !== undefined) out.rate = rule.maxRatePerSecond;
    if (rule.stale) out.staleAfter = rule.stale.samples;
    if (rule.flatline) {
      out.flatSamples = rule.flatline.samples;
      out.flatTolerance = rule.flatline.tolerance;
    }
    if (rule.anomaly) out.anomaly = true;
  }
  if (out) out.stateful = out.rate > 0 || out.staleAfter > 0 || out.flatSamples > 0;
  return out;
}

/**
 * The level the value asks for, with hysteresis: a level is entered when the value passes its threshold
 * and kept (when already at or above it) until the value is `hysteresis` back on the good side. So a
 * value oscillating around a threshold within the deadband is one episode, not one per oscillation.
 */
export function targetLevel(rule: AlarmRule, value: number, current: 0 | 1 | 2): 0 | 1 | 2 {
  const above = rule.direction === 'above';
  const h = rule.hysteresis;
  const check = (threshold: number | undefined, level: 1 | 2): boolean => {
    if (threshold === undefined) return false;
    if (above ? value > threshold : value < threshold) return true;
    return current >= level && (above ? value > threshold - h : value < threshold + h);
  };
  if (check(rule.fault, 2)) return 2;
  if (check(rule.warning, 1)) return 1;
  // Only a fault threshold: a current fault is held by its own deadband (checked above).
  return 0;
}

function idsOf(record: ParsedRecord, rule: AlarmRule) {
  return {
    site: record.site,
    equipment: record.equipment,
    device: record.device,
    rack: record.rack,
    rule: rule.name,
  };
}

function thresholdOf(rule: AlarmRule, level: 1 | 2): number {
  return (level === 2 ? rule.fault : rule.warning)!;
}

function lowestLevel(rule: AlarmRule): 1 | 2 {
  return rule.warning !== undefined ? 1 : 2;
}

/** The value that must be passed (towards good) to leave `level`. */
function releaseThreshold(rule: AlarmRule, level: 0 | 1 | 2): number {
  const t = level === 2 && rule.fault !== undefined ? rule.fault : (rule.warning ?? rule.fault)!;
  return rule.direction === 'above' ? t - rule.hysteresis : t + rule.hysteresis;
}

function describe(rule: AlarmRule, value: number, threshold: number, level: AlarmLevel): string {
  return `${rule.expression.text} = ${round(value)} ${rule.direction === 'above' ? '>' : '<'} ${round(threshold)} (${level})`;
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

function deviceKey(d: {
  site: string;
  equipment: string;
  device: string;
  rack?: string | undefined;
}): string {
  return `${d.site}${SEP}${d.equipment}${SEP}${d.device}${SEP}${d.rack ?? ''}`;
}

function identity(d: { site: string; equipment: string; device: string; rack?: string | undefined }) {
  return { site: d.site, equipment: d.equipment, device: d.device, rack: d.rack };
}

function event(
  ids: { site: string; equipment: string; device: string; rack?: string | undefined; rule: string },
  field: string,
  state: AlarmEvent['state'],
  level: AlarmLevel,
  value: number | null,
  threshold: number | null,
  episode: { id: string; raisedAt: string },
  ts: string,
  message: string,
): AlarmEvent {
  const e: AlarmEvent = {
    v: 1,
    id: episode.id,
    site: ids.site,
    equipment: ids.equipment,
    device: ids.device,
    rule: ids.rule,
    field,
    state,
    level,
    value,
    threshold,
    raisedAt: episode.raisedAt,
    ts,
    message,
  };
  if (ids.rack !== undefined) e.rack = ids.rack;
  return e;
}

function withFlag(list: QualityFlag[] | undefined, flag: QualityFlag): QualityFlag[] {
  if (list === undefined) return [flag];
  list.push(flag);
  return list;
}

/** Adds flags to record.quality[field], keeping the source's and never listing one twice. */
export function mergeFlags(record: ParsedRecord, field: string, flags: readonly QualityFlag[]): void {
  if (record.quality === undefined) record.quality = {};
  const quality = record.quality;
  const existing = Object.hasOwn(quality, field) ? quality[field] : undefined;
  if (existing === undefined) {
    quality[field] = [...new Set(flags)];
    return;
  }
  for (const flag of flags) if (!existing.includes(flag)) existing.push(flag);
  existing.sort((a, b) => (FLAG_ORDER.get(a) ?? 99) - (FLAG_ORDER.get(b) ?? 99));
}
