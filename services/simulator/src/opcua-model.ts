import { Prng, seedFor } from './prng.js';

/**
 * The microgrid address space the OPC UA simulator serves, as plain data: devices, their variables,
 * units, ranges and how each value moves. Kept apart from node-opcua so the shape can be unit-tested
 * and reused by tests that need to know which browse paths exist.
 */

export type PointKind = 'number' | 'boolean';

export interface PointSpec {
  name: string;
  kind: PointKind;
  unit?: string;
  /** Engineering range (EURange); also what a percent deadband is relative to. */
  range?: { low: number; high: number };
  /** Largest change per update tick of the random walk. */
  step?: number;
  /** Chance per tick that a boolean flips. */
  flipChance?: number;
  initial: number | boolean;
}

export interface DeviceSpec {
  /** Browse name under the site: Battery01, PCS01, PV01, EVCharger01, Bench00001, … */
  name: string;
  /** What the collector should call the equipment (lower snake case), for configs and docs. */
  equipment: string;
  points: PointSpec[];
}

const BATTERY: PointSpec[] = [
  { name: 'SOC', kind: 'number', unit: '%', range: { low: 0, high: 100 }, step: 0.2, initial: 62 },
  { name: 'SOH', kind: 'number', unit: '%', range: { low: 0, high: 100 }, step: 0.01, initial: 97.5 },
  { name: 'Voltage', kind: 'number', unit: 'V', range: { low: 600, high: 900 }, step: 0.8, initial: 768 },
  // Negative while charging: the sign must survive the whole pipeline.
  { name: 'Current', kind: 'number', unit: 'A', range: { low: -250, high: 250 }, step: 6, initial: -42.5 },
  { name: 'Power', kind: 'number', unit: 'kW', range: { low: -200, high: 200 }, step: 5, initial: -32.6 },
  {
    name: 'Temperature',
    kind: 'number',
    unit: '°C',
    range: { low: -20, high: 60 },
    step: 0.1,
    initial: 24.3,
  },
  { name: 'Fault', kind: 'boolean', flipChance: 0.002, initial: false },
];

const PCS: PointSpec[] = [
  {
    name: 'ActivePower',
    kind: 'number',
    unit: 'kW',
    range: { low: -250, high: 250 },
    step: 6,
    initial: 120.5,
  },
  {
    name: 'ReactivePower',
    kind: 'number',
    unit: 'kvar',
    range: { low: -100, high: 100 },
    step: 2,
    initial: 8.2,
  },
  {
    name: 'Frequency',
    kind: 'number',
    unit: 'Hz',
    range: { low: 59.5, high: 60.5 },
    step: 0.01,
    initial: 60,
  },
  { name: 'Voltage', kind: 'number', unit: 'V', range: { low: 360, high: 420 }, step: 0.5, initial: 380.2 },
  { name: 'Current', kind: 'number', unit: 'A', range: { low: -400, high: 400 }, step: 8, initial: 182.4 },
  {
    name: 'Temperature',
    kind: 'number',
    unit: '°C',
    range: { low: -20, high: 80 },
    step: 0.1,
    initial: 38.1,
  },
  { name: 'Running', kind: 'boolean', flipChance: 0.001, initial: true },
  { name: 'Fault', kind: 'boolean', flipChance: 0.001, initial: false },
];

const PV: PointSpec[] = [
  { name: 'Power', kind: 'number', unit: 'kW', range: { low: 0, high: 150 }, step: 4, initial: 84.2 },
  { name: 'Irradiance', kind: 'number', unit: 'W/m²', range: { low: 0, high: 1200 }, step: 20, initial: 640 },
  { name: 'Voltage', kind: 'number', unit: 'V', range: { low: 400, high: 1000 }, step: 3, initial: 712 },
  { name: 'Current', kind: 'number', unit: 'A', range: { low: 0, high: 250 }, step: 4, initial: 118.3 },
  {
    name: 'DailyEnergy',
    kind: 'number',
    unit: 'kWh',
    range: { low: 0, high: 2000 },
    step: 0.5,
    initial: 312.4,
  },
  { name: 'Fault', kind: 'boolean', flipChance: 0.001, initial: false },
];

const EV_CHARGER: PointSpec[] = [
  { name: 'Power', kind: 'number', unit: 'kW', range: { low: 0, high: 50 }, step: 1.5, initial: 22.1 },
  { name: 'Energy', kind: 'number', unit: 'kWh', range: { low: 0, high: 100 }, step: 0.2, initial: 14.7 },
  { name: 'Voltage', kind: 'number', unit: 'V', range: { low: 200, high: 500 }, step: 1, initial: 398 },
  { name: 'Current', kind: 'number', unit: 'A', range: { low: 0, high: 125 }, step: 2, initial: 55.4 },
  { name: 'Connected', kind: 'boolean', flipChance: 0.002, initial: true },
  { name: 'Charging', kind: 'boolean', flipChance: 0.002, initial: true },
  { name: 'Fault', kind: 'boolean', flipChance: 0.001, initial: false },
];

export interface ModelOptions {
  batteries?: number;
  /** Scalable bench mode: this many generic devices per site, each with `pointsPerDevice` numbers. */
  benchDevices?: number;
  pointsPerDevice?: number;
}

export function microgridDevices(options: ModelOptions = {}): DeviceSpec[] {
  const devices: DeviceSpec[] = [];
  const batteries = options.batteries ?? 2;
  for (let i = 1; i <= batteries; i++) {
    devices.push({ name: `Battery${pad(i, 2)}`, equipment: 'battery', points: BATTERY });
  }
  devices.push({ name: 'PCS01', equipment: 'pcs', points: PCS });
  devices.push({ name: 'PV01', equipment: 'pv', points: PV });
  devices.push({ name: 'EVCharger01', equipment: 'ev_charger', points: EV_CHARGER });
  const bench = options.benchDevices ?? 0;
  const perDevice = options.pointsPerDevice ?? 10;
  if (bench > 0) {
    const points: PointSpec[] = [];
    for (let p = 1; p <= perDevice; p++) {
      points.push({
        name: `P${pad(p, 3)}`,
        kind: 'number',
        range: { low: 0, high: 1000 },
        step: 5,
        initial: 500,
      });
    }
    for (let d = 1; d <= bench; d++) devices.push({ name: `Bench${pad(d, 5)}`, equipment: 'bench', points });
  }
  return devices;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/**
 * Moves every value of one device per tick. Bench points change on every tick (a step that is never
 * zero) so that each monitored item really produces one notification per sampling interval; the
 * microgrid points random-walk inside their ranges.
 */
export class DeviceState {
  readonly values: (number | boolean)[];
  private readonly prng: Prng;

  constructor(
    readonly spec: DeviceSpec,
    site: string,
    seed: number,
  ) {
    this.prng = new Prng(seedFor(seed, `${site}/${spec.name}`));
    this.values = spec.points.map((p) => p.initial);
  }

  tick(): void {
    const points = this.spec.points;
    for (let i = 0; i < points.length; i++) {
      const p = points[i]!;
      const v = this.values[i]!;
      if (p.kind === 'boolean') {
        if (this.prng.chance(p.flipChance ?? 0)) this.values[i] = !v;
        continue;
      }
      const range = p.range ?? { low: -1e9, high: 1e9 };
      // Two decimals: what a real meter reports, and it keeps test output readable.
      let next = Math.round(this.prng.walk(v as number, p.step ?? 1, range.low, range.high) * 100) / 100;
      // Never the same value twice in a row: a monitored item reports changes only, and the bench
      // counts one notification per item per sampling interval.
      if (next === v) next = Math.round((v < range.high ? v + 0.01 : v - 0.01) * 100) / 100;
      this.values[i] = next;
    }
  }
}
