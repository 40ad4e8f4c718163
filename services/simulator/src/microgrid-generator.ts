import {
  BatteryModel,
  ConverterModel,
  EvChargerModel,
  InverterModel,
  PvModel,
  type Tick,
  TransformerModel,
} from './equipment.js';
import { gatewayJson } from './gateway-json.js';
import { Prng } from './prng.js';
import { formatGatewayTimestamp, zonedTime } from './zoned-time.js';

/** How many devices of each kind a simulated site has. */
export interface SiteShape {
  batteries: number;
  racksPerBattery: number;
  converters: number;
  inverters: number;
  transformers: number;
  pvs: number;
  evChargers: number;
}

/** The reference site: 3 batteries of 1 rack, 3 converters, 2 inverters, 2 transformers, 1 PV, 3 EV chargers. */
export const REFERENCE_SITE_SHAPE: Readonly<SiteShape> = {
  batteries: 3,
  racksPerBattery: 1,
  converters: 3,
  inverters: 2,
  transformers: 2,
  pvs: 1,
  evChargers: 3,
};

export interface MicrogridSiteOptions extends Partial<SiteShape> {
  siteId: string;
  /** Same seed + same sequence of `now` values = byte-identical messages. */
  seed: number;
  siteName?: string;
  /** Reported by the PV meter and used for the sun's path; default: the reference site in Korea. */
  latitude?: number;
  longitude?: number;
  /**
   * `s` (default) writes `YYYY-MM-DD HH:MM:SS` exactly like the gateway. `ms` appends `.mmm`: needed when
   * a site sends more than one message per second, because readings with the same site, device and
   * timestamp are one point downstream and the later one overwrites the earlier.
   */
  timestampPrecision?: 's' | 'ms';
}

export interface MicrogridSite {
  readonly siteId: string;
  readonly shape: Readonly<SiteShape>;
  /** Messages produced so far. */
  readonly sequence: number;
  /** The next gateway message at `now`, stamped with the wall-clock time of `timeZone`, as UTF-8 JSON. */
  next(now: Date, timeZone: string): Buffer;
}

function resolveShape(options: Partial<SiteShape>): SiteShape {
  const shape = { ...REFERENCE_SITE_SHAPE };
  for (const key of Object.keys(shape) as (keyof SiteShape)[]) {
    const v = options[key];
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v < 0 || v > 999)
      throw new RangeError(`${key} must be an integer 0..999, got ${v}`);
    shape[key] = v;
  }
  if (shape.racksPerBattery < 1) throw new RangeError('racksPerBattery must be at least 1');
  return shape;
}

/**
 * Parsed records one message of this shape yields: one per device, plus one per battery rack (a rack is a
 * device of its own in the canonical model).
 */
export function expectedRecordCount(options: Partial<SiteShape>): number {
  const s = resolveShape(options);
  return (
    s.batteries * (1 + s.racksPerBattery) + s.converters + s.inverters + s.transformers + s.pvs + s.evChargers
  );
}

const twoDigits = (n: number) => String(n).padStart(2, '0');

/** `{ id1: "01", id2: "02", ... }`: the group-level id list of the reference message. */
function idList(count: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 1; i <= count; i++) out[`id${i}`] = twoDigits(i);
  return out;
}

const CONTROLLER_COMPONENTS = { Device1: 'Controller', Device2: 'Switch', Device3: 'Measure_Sensor1' };
const LOAD_ROLES = { DC_Microgrid: { role1: 'LoadDevice', role2: 'ControlDevice', role3: 'GensetDevice' } };

function group(
  index: number,
  name: string,
  count: number,
  service: Record<string, unknown>[],
  component: Record<string, string> = CONTROLLER_COMPONENTS,
  role: Record<string, unknown> = LOAD_ROLES,
): Record<string, unknown> {
  return { index, Name: name, component, id: idList(count), role, service };
}

export function createMicrogridSite(options: MicrogridSiteOptions): MicrogridSite {
  const shape = resolveShape(options);
  const { siteId } = options;
  const rng = new Prng(options.seed);
  const latitude = options.latitude ?? 35.31;
  const longitude = options.longitude ?? 126.19;
  const siteName = options.siteName ?? `Microgrid site ${siteId}`;
  const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

  const batteries = range(shape.batteries).map(
    (i) => new BatteryModel(twoDigits(i), shape.racksPerBattery, rng),
  );
  const converters = range(shape.converters).map((i) => new ConverterModel(i, rng));
  const inverters = range(shape.inverters).map((i) => new InverterModel(i, rng));
  const transformers = range(shape.transformers).map((i) => new TransformerModel(i, rng));
  const pvs = range(shape.pvs).map((i) => new PvModel(i, latitude, longitude, rng));
  const evChargers = range(shape.evChargers).map((i) => new EvChargerModel(i, rng));

  let sequence = 0;
  let lastMs: number | undefined;

  return {
    siteId,
    shape,
    get sequence() {
      return sequence;
    },
    next(now: Date, timeZone: string): Buffer {
      const ms = now.getTime();
      // Clamped so a paused process or a clock jump does not drain a battery in one message.
      const dt = lastMs === undefined ? 0 : Math.min(3600, Math.max(0, (ms - lastMs) / 1000));
      lastMs = ms;
      const local = zonedTime(now, timeZone);
      const tick: Tick = { rng, dt, w: Math.sqrt(dt / 60), local };

      for (const b of batteries) b.step(tick);
      const batteryKw = batteries.reduce((s, b) => s + b.power, 0);
      for (const c of converters) c.step(tick, batteryKw / Math.max(1, converters.length));
      const convertedKw = converters.reduce((s, c) => s + c.powerKw, 0);
      for (const inv of inverters) inv.step(tick, convertedKw / Math.max(1, inverters.length));
      for (const pv of pvs) pv.step(tick);
      const pvKw = pvs.reduce((s, pv) => s + pv.outputKw, 0);
      for (const t of transformers) t.step(tick, pvKw / Math.max(1, transformers.length) - 20);
      for (const ev of evChargers) ev.step(tick);
      sequence += 1;

      const message = {
        header: {
          site_id: siteId,
          EnergyPlatformLayer: 1,
          FieldDeviceLayer: 6,
          timestamp:
            options.timestampPrecision === 'ms'
              ? `${formatGatewayTimestamp(local)}.${String(((ms % 1000) + 1000) % 1000).padStart(3, '0')}`
              : formatGatewayTimestamp(local),
        },
        EnergyPlatformLayer: {
          Name: siteName,
          Broker_IP: '$Broker_IP',
          Protocol: 'AMQP-0-9-1',
          Security: 'SSL/TLS1.3',
          'Cipher Algorithm': 'AES256_GCM',
          'Routing key': `site.${siteId}`,
        },
        FieldDeviceLayer: {
          field1: group(
            1,
            'Battery',
            batteries.length,
            batteries.map((b) => b.record()),
            { Device1: 'Rack', Device2: 'Switch', Device3: 'Measure_Sensor1' },
            { DC_Microgrid: { role1: 'StorageDevice', role2: 'ControlDevice' } },
          ),
          field2: group(
            2,
            'DC/DC_Convertor',
            converters.length,
            converters.map((c) => c.record()),
          ),
          field3: group(
            3,
            'AC/DC_Invertor',
            inverters.length,
            inverters.map((i) => i.record()),
          ),
          field4: group(
            4,
            'TR',
            transformers.length,
            transformers.map((t) => t.record()),
          ),
          field5: group(
            5,
            'PhotoVolatic Equipment',
            pvs.length,
            pvs.map((p) => p.record()),
          ),
          field6: group(
            6,
            'EVCharger Equipment',
            evChargers.length,
            evChargers.map((e) => e.record()),
          ),
        },
        etc: { test1: 111, test2: 111 },
      };
      return Buffer.from(gatewayJson(message), 'utf8');
    },
  };
}
