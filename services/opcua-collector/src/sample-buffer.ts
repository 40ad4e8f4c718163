import type { ScalarValue, StatusSeverity } from '@gridstream/opcua';
import type { QualityFlag, Sample } from '@gridstream/schema';

/** One device as samples name it, plus what the collector tracks about it. */
export interface DeviceSlot {
  site: string;
  equipment: string;
  device: string;
  rack?: string;
  /** `site/equipment/device[/rack]`: one sample per slot and timestamp. */
  key: string;
  /** Source timestamp (ms) of the newest good value, for the "age of last good value" metric. */
  lastGoodTsMs?: number;
}

/** One configured point; its state survives reconnects so a re-sent value is recognised as such. */
export interface PointSlot {
  device: DeviceSlot;
  field: string;
  lastTsMs?: number;
  lastValueKey?: string;
}

export interface Reading {
  value: ScalarValue;
  severity: StatusSeverity;
  sourceTsMs?: number;
  serverTsMs?: number;
  receivedAtMs: number;
}

export type AddOutcome =
  /** Buffered; `timestamp` says where its time came from. */
  | { kind: 'added'; timestamp: 'source' | 'server' | 'received' }
  /** The same value with the same timestamp as the last one from this point: not sent again. */
  | { kind: 'duplicate' }
  /** A string, array or structure: not a reading. */
  | { kind: 'unsupported'; dataType: string }
  /** A Good status with no value at all: nothing to record. */
  | { kind: 'empty' };

interface OpenSample {
  sample: Sample;
  firstAt: number;
}

/**
 * Collects readings and groups them per device and timestamp into samples.
 *
 * Timestamps are the server's: the source timestamp, else the server timestamp, else (rarely) the time
 * the value arrived. A value that repeats with the timestamp it had before is a re-send (the initial
 * value of a recreated monitored item, a poll that found nothing new) and is dropped, so a reconnect
 * never writes a second point; an arrival time is only used for a value that actually changed, so the
 * collector never invents a new timestamp for an old value.
 */
export class SampleBuffer {
  private open = new Map<string, OpenSample>();

  add(point: PointSlot, reading: Reading, options: { changeOnly: boolean }): AddOutcome {
    const { value, severity } = reading;
    if (value.kind === 'unsupported') return { kind: 'unsupported', dataType: value.dataType };
    if (value.kind === 'empty' && severity === 'good') return { kind: 'empty' };

    let tsMs = reading.sourceTsMs;
    let timestamp: 'source' | 'server' | 'received' = 'source';
    if (tsMs === undefined) {
      tsMs = reading.serverTsMs;
      timestamp = 'server';
    }
    const valueKey = `${value.kind === 'empty' ? '' : String(value.value)}|${severity}`;
    if (tsMs === undefined) {
      // No timestamp from the server at all. Under a subscription a notification means "changed", so an
      // unchanged value is a re-send of the initial value after a (re)subscription.
      if (options.changeOnly && point.lastValueKey === valueKey) return { kind: 'duplicate' };
      tsMs = reading.receivedAtMs;
      timestamp = 'received';
    } else if (tsMs === point.lastTsMs && valueKey === point.lastValueKey) {
      return { kind: 'duplicate' };
    }
    if (point.lastTsMs === undefined || tsMs >= point.lastTsMs) {
      point.lastTsMs = tsMs;
      point.lastValueKey = valueKey;
    }

    const device = point.device;
    const groupKey = `${device.key}@${tsMs}`;
    let open = this.open.get(groupKey);
    if (!open) {
      const sample: Sample = {
        site: device.site,
        equipment: device.equipment,
        device: device.device,
        ts: new Date(tsMs).toISOString(),
        fields: {},
      };
      if (device.rack !== undefined) sample.rack = device.rack;
      open = { sample, firstAt: reading.receivedAtMs };
      this.open.set(groupKey, open);
    }
    const sample = open.sample;
    let finite = true;
    if (value.kind === 'number') {
      finite = Number.isFinite(value.value);
      // NaN/Infinity cannot be stored; the 'bad' flag still records that a reading was there.
      if (finite) sample.fields[point.field] = value.value;
    } else if (value.kind === 'boolean') {
      sample.flags ??= {};
      sample.flags[point.field] = value.value;
    }
    const flag: QualityFlag | undefined =
      severity === 'bad' || !finite ? 'bad' : severity === 'uncertain' ? 'uncertain' : undefined;
    if (flag) {
      sample.quality ??= {};
      sample.quality[point.field] = [flag];
    } else if (sample.quality?.[point.field]) {
      delete sample.quality[point.field];
    }
    if (flag === undefined && value.kind !== 'empty') {
      device.lastGoodTsMs = Math.max(device.lastGoodTsMs ?? 0, tsMs);
    }
    return { kind: 'added', timestamp };
  }

  get size(): number {
    return this.open.size;
  }

  /**
   * Samples whose first reading arrived at least `minAgeMs` ago (all of them with 0). Waiting a little
   * lets the other points of the same scan join their sample instead of making a second one.
   */
  drain(nowMs: number, minAgeMs: number): Sample[] {
    const out: Sample[] = [];
    for (const [key, open] of this.open) {
      if (nowMs - open.firstAt < minAgeMs) continue;
      this.open.delete(key);
      out.push(open.sample);
    }
    return out;
  }
}
