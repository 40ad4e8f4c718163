import { type AlarmEvent, AlarmEventSchema, alarmKey } from '@gridstream/schema';

/**
 * Latest event per alarm (Kafka key = alarmKey) from `telemetry.alarms`; active = the last state is
 * not `cleared`. Events that do not match the schema are counted and skipped, never fatal.
 */
export class ActiveAlarms {
  private readonly latest = new Map<string, AlarmEvent>();
  invalid = 0;

  apply(value: Buffer | null, key: Buffer | null): void {
    if (value === null) {
      // A tombstone (compaction): the alarm is gone entirely.
      if (key !== null) this.latest.delete(key.toString('utf8'));
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(value.toString('utf8'));
    } catch {
      this.invalid++;
      return;
    }
    const result = AlarmEventSchema.safeParse(parsed);
    if (!result.success) {
      this.invalid++;
      return;
    }
    const event = result.data;
    const k = alarmKey(event);
    const previous = this.latest.get(k);
    // Keep the newest by event time: a replayed older event must not resurrect a cleared alarm.
    if (previous === undefined || Date.parse(event.ts) >= Date.parse(previous.ts)) this.latest.set(k, event);
  }

  /** Active alarms, faults first, then the most recently raised. */
  active(): (AlarmEvent & { key: string })[] {
    return [...this.latest]
      .filter(([, e]) => e.state !== 'cleared')
      .map(([key, e]) => ({ ...e, key }))
      .sort(
        (a, b) =>
          (a.level === b.level ? 0 : a.level === 'fault' ? -1 : 1) ||
          Date.parse(b.raisedAt) - Date.parse(a.raisedAt),
      );
  }
}
