import {
  type AlarmAction,
  AlarmActionSchema,
  type AlarmEvent,
  AlarmEventSchema,
  type AlarmLevel,
  alarmKey,
} from '@gridstream/schema';

/** How many of one alarm's events and actions the history page can show (older ones stay in Kafka). */
const EVENTS_KEPT = 50;
const ACTIONS_KEPT = 200;

const RANK: Record<AlarmLevel, number> = { warning: 1, fault: 2 };

export interface Acknowledgement {
  by: string;
  at: string;
  comment: string;
}

export interface Shelf {
  by: string;
  at: string;
  until: string;
  comment: string;
}

/** An alarm as the console shows it: its latest event plus how operators are handling it. */
export interface AlarmView extends AlarmEvent {
  key: string;
  /** Set when this episode is acknowledged at (or above) its current level. */
  acknowledged?: Acknowledgement;
  /** Set while the alarm is on the shelf. */
  shelved?: Shelf;
}

export interface AlarmHistory {
  key: string;
  latest: AlarmView;
  /** Newest first. */
  events: AlarmEvent[];
  /** Newest first. */
  actions: AlarmAction[];
}

interface Entry {
  latest: AlarmEvent;
  events: AlarmEvent[];
  actions: AlarmAction[];
}

/** Why an operator action was refused; `status` is the HTTP answer. */
export class AlarmActionRefused extends Error {
  override readonly name = 'AlarmActionRefused';
  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The alarms as operators work them (ISA-18.2): the latest event per alarm from `telemetry.alarms` (key =
 * alarmKey) and every operator action from `telemetry.alarm-actions`, both read from the beginning at start,
 * so acknowledgements and shelves survive a console restart. Events or actions that do not match their
 * schema are counted and skipped, never fatal.
 */
export class AlarmBoard {
  private readonly entries = new Map<string, Entry>();
  /** Actions for alarms whose events have not been read yet (the two topics are read independently). */
  private readonly early = new Map<string, AlarmAction[]>();
  invalid = 0;
  invalidActions = 0;

  /** One value of the alarms topic. */
  apply(value: Buffer | null, key: Buffer | null): void {
    if (value === null) {
      // A tombstone (compaction): the alarm is gone entirely.
      if (key !== null) this.entries.delete(key.toString('utf8'));
      return;
    }
    const event = parse(value, AlarmEventSchema);
    if (event === undefined) {
      this.invalid++;
      return;
    }
    const k = alarmKey(event);
    let entry = this.entries.get(k);
    if (entry === undefined) {
      entry = { latest: event, events: [], actions: this.early.get(k) ?? [] };
      this.early.delete(k);
      this.entries.set(k, entry);
    }
    if (entry.events.some((e) => e.id === event.id && e.state === event.state && e.ts === event.ts)) return;
    keepNewest(entry.events, event, EVENTS_KEPT);
    // Keep the newest by event time: a replayed older event must not resurrect a cleared alarm.
    if (Date.parse(event.ts) >= Date.parse(entry.latest.ts)) entry.latest = event;
  }

  /** One value of the alarm-actions topic (or an action just produced by this console); once per id. */
  applyAction(value: Buffer | null): void {
    if (value === null) return;
    const action = parse(value, AlarmActionSchema);
    if (action === undefined) {
      this.invalidActions++;
      return;
    }
    const k = alarmKey(action);
    const list = this.entries.get(k)?.actions ?? this.early.get(k) ?? [];
    if (list.some((a) => a.id === action.id)) return;
    keepNewest(list, action, ACTIONS_KEPT);
    if (!this.entries.has(k)) this.early.set(k, list);
  }

  /** Active alarms that are not shelved: faults first, unacknowledged first, then the most recently raised. */
  active(now = Date.now()): AlarmView[] {
    return this.views(now)
      .filter((a) => a.state !== 'cleared' && a.shelved === undefined)
      .sort(
        (a, b) =>
          RANK[b.level] - RANK[a.level] ||
          Number(a.acknowledged !== undefined) - Number(b.acknowledged !== undefined) ||
          Date.parse(b.raisedAt) - Date.parse(a.raisedAt),
      );
  }

  /** Alarms on the shelf (active or not), the shelf ending soonest first. */
  shelved(now = Date.now()): AlarmView[] {
    return this.views(now)
      .filter((a) => a.shelved !== undefined)
      .sort((a, b) => Date.parse(a.shelved!.until) - Date.parse(b.shelved!.until));
  }

  history(key: string, now = Date.now()): AlarmHistory | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    return {
      key,
      latest: view(key, entry, now),
      events: [...entry.events].reverse(),
      actions: [...entry.actions].reverse(),
    };
  }

  /**
   * Checks an operator's request against the alarm's current state and returns the action to publish.
   * Refusals say why in words an operator understands (they are shown as they are).
   */
  prepare(
    request: { key: string; action: AlarmAction['action']; comment: string; minutes?: number; by: string },
    limits: { maxShelveMinutes: number },
    ids: { id: string; now: number },
  ): AlarmAction {
    const entry = this.entries.get(request.key);
    if (entry === undefined) throw new AlarmActionRefused(404, `There is no alarm ${request.key}.`);
    const current = view(request.key, entry, ids.now);
    const comment = request.comment.trim();
    if (comment.length > 1_000)
      throw new AlarmActionRefused(400, 'The comment is longer than 1,000 characters.');
    let shelvedUntil: string | undefined;
    switch (request.action) {
      case 'acknowledged':
        if (current.state === 'cleared')
          throw new AlarmActionRefused(409, 'This alarm has cleared; there is nothing to acknowledge.');
        if (current.acknowledged !== undefined)
          throw new AlarmActionRefused(
            409,
            `Already acknowledged by ${current.acknowledged.by} at ${current.acknowledged.at}.`,
          );
        break;
      case 'shelved': {
        const minutes = request.minutes;
        if (
          minutes === undefined ||
          !Number.isInteger(minutes) ||
          minutes < 1 ||
          minutes > limits.maxShelveMinutes
        )
          throw new AlarmActionRefused(
            400,
            `Choose how long to shelve the alarm: 1 to ${limits.maxShelveMinutes} minutes.`,
          );
        if (comment === '') throw new AlarmActionRefused(400, 'Say why the alarm is shelved (the comment).');
        shelvedUntil = new Date(ids.now + minutes * 60_000).toISOString();
        break;
      }
      case 'unshelved':
        if (current.shelved === undefined) throw new AlarmActionRefused(409, 'This alarm is not shelved.');
        break;
      case 'commented':
        if (comment === '') throw new AlarmActionRefused(400, 'Write the comment first.');
        break;
    }
    const { site, equipment, device, rack, rule } = entry.latest;
    return AlarmActionSchema.parse({
      v: 1,
      id: ids.id,
      action: request.action,
      episode: entry.latest.id,
      site,
      equipment,
      device,
      ...(rack === undefined ? {} : { rack }),
      rule,
      ...(request.action === 'acknowledged' ? { level: entry.latest.level } : {}),
      by: request.by,
      at: new Date(ids.now).toISOString(),
      comment,
      ...(shelvedUntil === undefined ? {} : { shelvedUntil }),
    });
  }

  private views(now: number): AlarmView[] {
    return [...this.entries].map(([key, entry]) => view(key, entry, now));
  }
}

function view(key: string, entry: Entry, now: number): AlarmView {
  const latest = entry.latest;
  let acknowledged: Acknowledgement | undefined;
  let shelf: Shelf | undefined;
  for (const a of entry.actions) {
    if (a.action === 'acknowledged' && a.episode === latest.id) {
      // An escalation above the acknowledged level is a new annunciation: it needs a new acknowledgement.
      acknowledged =
        RANK[a.level ?? 'fault'] >= RANK[latest.level]
          ? { by: a.by, at: a.at, comment: a.comment }
          : undefined;
    } else if (a.action === 'shelved') {
      shelf = { by: a.by, at: a.at, until: a.shelvedUntil!, comment: a.comment };
    } else if (a.action === 'unshelved') {
      shelf = undefined;
    }
  }
  // A shelf ends by itself: nothing has to be written for the alarm to come back.
  if (shelf !== undefined && Date.parse(shelf.until) <= now) shelf = undefined;
  return {
    ...latest,
    key,
    ...(acknowledged === undefined ? {} : { acknowledged }),
    ...(shelf === undefined ? {} : { shelved: shelf }),
  };
}

/** Appends in time order (by `ts` or `at`), dropping the oldest past `max`. */
function keepNewest<T extends { ts?: string; at?: string }>(list: T[], item: T, max: number): void {
  const t = (x: T) => Date.parse((x.ts ?? x.at) as string);
  let i = list.length;
  while (i > 0 && t(list[i - 1]!) > t(item)) i--;
  list.splice(i, 0, item);
  if (list.length > max) list.splice(0, list.length - max);
}

function parse<T>(
  value: Buffer,
  schema: { safeParse(x: unknown): { success: true; data: T } | { success: false } },
): T | undefined {
  try {
    const result = schema.safeParse(JSON.parse(value.toString('utf8')));
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}
