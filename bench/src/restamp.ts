/**
 * Re-stamps a generated gateway message with another instant, in place of generating a new one: the
 * simulator's generator costs about 0.3 ms a message here, which at 1,000 messages/s would take a third
 * of one of the machine's two cores away from the services being measured. Only `header.timestamp`
 * changes (same length with `ms` precision), so the pipeline does exactly the work a fresh message costs.
 */

const TIMESTAMP_KEY = Buffer.from('"timestamp": "');
/** `YYYY-MM-DD HH:MM:SS.mmm` */
const STAMP_LENGTH = 23;

/** Byte offset of the header timestamp's value, checked to be an ms-precision stamp. */
export function timestampOffset(body: Buffer): number {
  const at = body.indexOf(TIMESTAMP_KEY);
  if (at < 0) throw new Error('no "timestamp" in the message');
  const start = at + TIMESTAMP_KEY.length;
  const value = body.toString('latin1', start, start + STAMP_LENGTH + 1);
  if (!/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}"$/.test(value)) {
    throw new Error(`timestamp is not YYYY-MM-DD HH:MM:SS.mmm: ${value}`);
  }
  return start;
}

const offsetCache = new Map<string, { minute: number; offsetMs: number }>();

/** UTC offset of `timeZone` at `at`, from Intl, cached per minute (a zone's offset changes on the hour). */
function zoneOffsetMs(at: number, timeZone: string): number {
  const minute = Math.floor(at / 60_000);
  const hit = offsetCache.get(timeZone);
  if (hit?.minute === minute) return hit.offsetMs;
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
      .formatToParts(new Date(minute * 60_000))
      .map((p) => [p.type, p.value]),
  );
  const wall = Date.UTC(
    +parts.year!,
    +parts.month! - 1,
    +parts.day!,
    +parts.hour!,
    +parts.minute!,
    +parts.second!,
  );
  const offsetMs = wall - minute * 60_000;
  offsetCache.set(timeZone, { minute, offsetMs });
  return offsetMs;
}

/** The gateway's wall-clock stamp of `at` in `timeZone`, with milliseconds. */
export function localStamp(at: number, timeZone: string): string {
  const iso = new Date(at + zoneOffsetMs(at, timeZone)).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

/** A copy of `template` whose header timestamp says `at`. */
export function restamp(template: Buffer, offset: number, at: number, timeZone: string): Buffer {
  const copy = Buffer.from(template);
  copy.write(localStamp(at, timeZone), offset, STAMP_LENGTH, 'latin1');
  return copy;
}
