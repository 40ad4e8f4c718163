import type { Prng } from './prng.js';
import { hoursToHhmm, sunPosition } from './solar.js';
import type { ZonedTime } from './zoned-time.js';

/**
 * Device models of a simulated microgrid. Each keeps its state between messages and moves it by a random
 * walk inside physical ranges, driven by elapsed time, so consecutive messages look like one site over
 * time rather than independent noise. Key names and key order follow the reference gateway message.
 */

export interface Tick {
  rng: Prng;
  /** Seconds since the previous message of this site (0 for the first). */
  dt: number;
  /**
   * Random-walk scale of this message: sqrt(dt / 60), so a value drifts by the same amount per minute
   * whether the site sends 10 messages a second or one a minute. Sensor noise is per message regardless.
   */
  w: number;
  local: ZonedTime;
}

/** Probability that an event with the given mean interval happens within dt seconds. */
const within = (dt: number, meanSeconds: number) => Math.min(1, dt / meanSeconds);

const round = (v: number, decimals: number) => {
  const f = 10 ** decimals;
  const r = Math.round(v * f) / f;
  return r === 0 ? 0 : r; // never -0
};
const clamp = (v: number, min: number, max: number) => Math.min(max, Math.max(min, v));

/**
 * Fault, communication-error and warning episodes: rare (a fault about every 12 hours per device) and
 * lasting minutes rather than one message, like real trips that need a reset.
 */
class Episodes {
  faultLeft = 0;
  commLeft = 0;
  warnLeft = 0;

  step(rng: Prng, dt: number): void {
    if (this.faultLeft > 0) this.faultLeft -= dt;
    else if (rng.chance(within(dt, 12 * 3600))) this.faultLeft = rng.range(60, 300);
    if (this.commLeft > 0) this.commLeft -= dt;
    else if (rng.chance(within(dt, 4 * 3600))) this.commLeft = rng.range(5, 30);
    if (this.warnLeft > 0) this.warnLeft -= dt;
    else if (rng.chance(within(dt, 2 * 3600))) this.warnLeft = rng.range(60, 600);
  }

  get fault(): boolean {
    return this.faultLeft > 0;
  }
  get commError(): boolean {
    return this.commLeft > 0;
  }
  get warning(): boolean {
    return this.warnLeft > 0 || this.faultLeft > 0;
  }
}

// ---------------------------------------------------------------------------------------------- battery

type BatteryMode = 'charge' | 'discharge' | 'idle';

interface RackState {
  soc: number;
  soh: number;
  tempMax: number;
  tempMin: number;
  cellSpread: number;
  share: number;
  current: number;
  voltage: number;
}

const RACK_CAPACITY_AH = 120;
const CELLS_IN_SERIES = 204;

/** Battery with its racks: SOC falls while discharging (positive current, as the gateway reports it) and rises while charging. */
export class BatteryModel {
  private mode: BatteryMode;
  private magnitude: number;
  private readonly racks: RackState[];
  private readonly ep = new Episodes();

  private readonly id: string;

  constructor(id: string, rackCount: number, rng: Prng) {
    this.id = id;
    this.mode = rng.chance(0.5) ? 'discharge' : 'charge';
    this.magnitude = rng.range(8, 25);
    const soc = rng.range(30, 80);
    this.racks = Array.from({ length: rackCount }, () => ({
      soc: clamp(soc + rng.noise(1), 5, 99),
      soh: rng.range(97, 100),
      tempMax: rng.range(28, 33),
      tempMin: rng.range(24, 28),
      cellSpread: rng.range(0.005, 0.02),
      share: 1 + rng.noise(0.02),
      current: 0,
      voltage: 0,
    }));
  }

  /** Signed DC power in kW (positive: discharging into the DC bus). */
  power = 0;

  get signedMode(): BatteryMode | 'stopped' {
    return this.ep.fault ? 'stopped' : this.mode;
  }

  step({ rng, dt, w }: Tick): void {
    this.ep.step(rng, dt);
    const soc = this.avg((r) => r.soc);
    if (this.mode === 'discharge' && soc < 15) this.mode = 'charge';
    else if (this.mode === 'charge' && soc > 92) this.mode = rng.chance(0.5) ? 'idle' : 'discharge';
    else if (rng.chance(within(dt, 1800)))
      this.mode = (['charge', 'discharge', 'idle'] as const)[rng.int(0, 2)]!;
    this.magnitude = rng.walk(this.magnitude, 2 * w, 2, 45);
    const mode = this.signedMode;
    const total = mode === 'discharge' ? this.magnitude : mode === 'charge' ? -this.magnitude : 0;
    let power = 0;
    for (const rack of this.racks) {
      rack.current =
        mode === 'idle' || mode === 'stopped' ? 0 : (total / this.racks.length) * rack.share + rng.noise(0.1);
      rack.soc = clamp(rack.soc - (rack.current * dt * 100) / 3600 / RACK_CAPACITY_AH, 0, 100);
      rack.soh = clamp(rack.soh - Math.abs(rack.current) * dt * 2e-9, 60, 100);
      const ocv = 705 + 1.1 * rack.soc;
      rack.voltage = ocv - rack.current * 0.45 + rng.noise(0.15);
      const heat = 26 + Math.abs(rack.current) * 0.35;
      rack.tempMax = clamp(
        rack.tempMax + (heat + 3 - rack.tempMax) * Math.min(1, dt / 600) + rng.noise(0.05),
        10,
        60,
      );
      rack.tempMin = clamp(
        rack.tempMin + (heat - 1.5 - rack.tempMin) * Math.min(1, dt / 600) + rng.noise(0.05),
        8,
        rack.tempMax,
      );
      rack.cellSpread = rng.walk(rack.cellSpread, 0.002 * w, 0.003, 0.04);
      power += (rack.voltage * rack.current) / 1000;
    }
    this.power = power;
  }

  record(): Record<string, unknown> {
    const flags = this.flags();
    const racks = this.racks.map((rack, i) => ({ index: i + 1, ...flags, ...this.readings([rack]) }));
    return {
      id: this.id,
      ...flags,
      total_racks: this.racks.length,
      ...this.readings(this.racks),
      // One rack is sent as an object, several as an array: both shapes occur in the field.
      racks: racks.length === 1 ? racks[0] : racks,
    };
  }

  private flags() {
    const mode = this.signedMode;
    return {
      communication_error: this.ep.commError,
      stop: mode === 'stopped',
      run: mode !== 'stopped',
      charge: mode === 'charge',
      discharge: mode === 'discharge',
      warning: this.ep.warning || this.avg((r) => r.soc) < 12 || this.max((r) => r.tempMax) > 45,
      fault: this.ep.fault,
    };
  }

  private readings(racks: RackState[]) {
    const avg = (f: (r: RackState) => number) => racks.reduce((s, r) => s + f(r), 0) / racks.length;
    const cell = (r: RackState) => r.voltage / CELLS_IN_SERIES;
    return {
      soc: round(
        avg((r) => r.soc),
        1,
      ),
      soh: round(
        avg((r) => r.soh),
        1,
      ),
      dc_voltage: round(
        avg((r) => r.voltage),
        1,
      ),
      dc_current: round(
        racks.reduce((s, r) => s + r.current, 0),
        1,
      ),
      max_cell_voltage: round(Math.max(...racks.map((r) => cell(r) + r.cellSpread)), 2),
      min_cell_voltage: round(Math.min(...racks.map((r) => cell(r) - r.cellSpread)), 2),
      max_module_temperature: round(Math.max(...racks.map((r) => r.tempMax)), 1),
      min_module_temperature: round(Math.min(...racks.map((r) => r.tempMin)), 1),
    };
  }

  private avg(f: (r: RackState) => number): number {
    return this.racks.reduce((s, r) => s + f(r), 0) / this.racks.length;
  }
  private max(f: (r: RackState) => number): number {
    return Math.max(...this.racks.map(f));
  }
}

// -------------------------------------------------------------------------------- power conversion

/** Power through one conversion stage, shared by the DC/DC converter and the inverter models. */
interface StageState {
  powerKw: number;
  dcVoltage: number;
  acVoltage: [number, number, number];
  frequency: number;
  igbt: [number, number, number];
  imbalance: [number, number, number];
}

function newStage(rng: Prng): StageState {
  return {
    powerKw: 0,
    dcVoltage: rng.range(748, 753),
    acVoltage: [rng.range(430, 436), rng.range(430, 436), rng.range(430, 436)],
    frequency: 60,
    igbt: [rng.range(25, 32), rng.range(24, 30), rng.range(23, 28)],
    imbalance: [1 + rng.noise(0.03), 1 + rng.noise(0.03), 1 + rng.noise(0.03)],
  };
}

function stepStage(s: StageState, { rng, dt, w }: Tick, targetKw: number): void {
  s.powerKw = Math.max(0, targetKw + rng.noise(0.2));
  s.dcVoltage = rng.walk(s.dcVoltage, 1.5 * w, 740, 760);
  s.acVoltage = s.acVoltage.map((v) => rng.walk(v, 1.5 * w, 425, 440)) as StageState['acVoltage'];
  s.frequency = 60 + rng.noise(0.01);
  const heat = 24 + s.powerKw * 0.45;
  s.igbt = s.igbt.map((t, i) =>
    clamp(t + (heat - i * 2 - t) * Math.min(1, dt / 300) + rng.noise(0.1), 15, 90),
  ) as StageState['igbt'];
}

function phaseCurrents(s: StageState): [number, number, number] {
  const i = (s.powerKw * 1000) / (Math.sqrt(3) * 433);
  return [i * s.imbalance[0], i * s.imbalance[1], i * s.imbalance[2]];
}

/** DC/DC converter between the batteries and the DC bus; flags follow the batteries it serves. */
export class ConverterModel {
  private readonly s: StageState;
  private readonly ep = new Episodes();
  private direction: 'charge' | 'discharge' | 'idle' = 'idle';

  private readonly index: number;

  constructor(index: number, rng: Prng) {
    this.index = index;
    this.s = newStage(rng);
  }

  get powerKw(): number {
    return this.ep.fault ? 0 : this.s.powerKw;
  }

  step(tick: Tick, batteryPowerKw: number): void {
    this.ep.step(tick.rng, tick.dt);
    this.direction = batteryPowerKw > 0.5 ? 'discharge' : batteryPowerKw < -0.5 ? 'charge' : 'idle';
    stepStage(this.s, tick, this.ep.fault ? 0 : Math.abs(batteryPowerKw) * 0.97);
  }

  record(): Record<string, unknown> {
    const s = this.s;
    const run = !this.ep.fault;
    const [ir, is, it] = phaseCurrents(s);
    return {
      index: this.index,
      communication_error: this.ep.commError,
      stop: !run,
      run,
      charge: run && this.direction === 'charge',
      discharge: run && this.direction === 'discharge',
      warning: this.ep.warning,
      fault: this.ep.fault,
      frequency: round(s.frequency, 2),
      ac_active_power: round(this.powerKw, 1),
      igbt_max_temperature: round(Math.max(...s.igbt), 1),
      ac_voltage_rs: round(s.acVoltage[0], 0),
      ac_voltage_st: round(s.acVoltage[1], 0),
      ac_voltage_tr: round(s.acVoltage[2], 0),
      ac_current_r: round(ir, 0),
      ac_current_s: round(is, 0),
      ac_current_t: round(it, 0),
      dc_voltage: round(s.dcVoltage, 0),
      dc_current: round((this.powerKw * 1000) / s.dcVoltage, 0),
    };
  }
}

/** AC/DC inverter to the building grid. Its status words are numbers (0.0/1.0), not booleans, as in the field. */
export class InverterModel {
  private readonly s: StageState;
  private readonly ep = new Episodes();
  private reactive = 0.5;
  private faultWord = 0;

  private readonly index: number;

  constructor(index: number, rng: Prng) {
    this.index = index;
    this.s = newStage(rng);
  }

  step(tick: Tick, throughputKw: number): void {
    const { rng, dt, w } = tick;
    this.ep.step(rng, dt);
    if (this.ep.fault && this.faultWord === 0) this.faultWord = rng.int(1, 9);
    if (!this.ep.fault) this.faultWord = 0;
    stepStage(this.s, tick, this.ep.fault ? 0 : throughputKw);
    this.reactive = rng.walk(this.reactive, 0.2 * w, 0, 2);
  }

  record(): Record<string, unknown> {
    const s = this.s;
    const [i1, i2, i3] = phaseCurrents(s);
    const out: Record<string, unknown> = {
      index: this.index,
      AC_ACTIVE: round(s.powerKw, 1),
      AC_CNT1: round(i1, 0),
      AC_CNT2: round(i2, 0),
      AC_CNT3: round(i3, 0),
      AC_FREQ: round(s.frequency, 2),
      AC_REACTIVE: round(this.reactive, 1),
      AC_VOLT1: round(s.acVoltage[0], 0),
      AC_VOLT2: round(s.acVoltage[1], 0),
      AC_VOLT3: round(s.acVoltage[2], 0),
      COMM_FAULT: this.ep.commError ? 1 : 0,
      COMM_WARN: this.ep.commError ? 1 : 0,
      DC_CURRENT: round((s.powerKw * 1000) / s.dcVoltage, 0),
      DC_POWER: round(s.powerKw * 1.02, 0),
      DC_VOLTAGE: round(s.dcVoltage, 0),
    };
    for (let f = 1; f <= 9; f++) out[`FAULT${f}`] = this.faultWord === f ? 1 : 0;
    out.IGBT_TEMP1 = round(s.igbt[0], 0);
    out.IGBT_TEMP2 = round(s.igbt[1], 0);
    out.IGBT_TEMP3 = round(s.igbt[2], 0);
    out.WARN1 = this.ep.warning ? 1 : 0;
    out.WARN2 = 0;
    return out;
  }
}

// ------------------------------------------------------------------------------------------ transformer

/** Building load in kW at a local hour: low at night, a plateau in working hours. */
export function buildingLoadKw(hours: number, baseKw: number): number {
  const day = Math.exp(-((hours - 13) ** 2) / 18);
  return baseKw * (0.35 + 0.65 * day);
}

interface Phases {
  v: [number, number, number];
  unbalance: [number, number, number];
}

/**
 * Transformer meters. Odd instances report the short key set of a plain power meter, even instances the
 * longer one of a protection relay, so instances of one equipment type carry different keys, exactly the
 * situation the reference message shows.
 */
export class TransformerModel {
  private pf: number;
  private readonly phases: Phases;
  private readonly baseKw: number;
  private activeWh: number;
  private reactiveVarh: number;
  private inverseWh: number;
  private peakKw = 0;
  private peakInverseKw = 0;
  private peakInverseKvar = 0;
  private izeroMax = 0;
  private lastP = 0;
  private lastQ = 0;
  private lastInverse = 0;
  private freq = 60;
  private izero = 0.2;

  private readonly index: number;

  constructor(index: number, rng: Prng) {
    this.index = index;
    this.pf = rng.range(0.8, 0.95);
    this.baseKw = rng.range(30, 80);
    this.phases = {
      v: [rng.range(217, 221), rng.range(217, 221), rng.range(217, 221)],
      unbalance: [1 + rng.noise(0.1), 1 + rng.noise(0.1), 1 + rng.noise(0.1)],
    };
    this.activeWh = rng.range(1e7, 2e9);
    this.reactiveVarh = rng.range(1e5, 1e6);
    this.inverseWh = rng.range(1e6, 5e7);
  }

  step({ rng, dt, w, local }: Tick, exportKw: number): void {
    this.pf = rng.walk(this.pf, 0.02 * w, 0.75, 0.99);
    this.phases.v = this.phases.v.map((v) => rng.walk(v, 1 * w, 214, 224)) as Phases['v'];
    this.freq = 60 + rng.noise(0.02);
    this.izero = rng.walk(this.izero, 0.2 * w, 0, 3);
    this.izeroMax = Math.max(this.izeroMax, this.izero);
    const p = Math.max(0, buildingLoadKw(local.hours, this.baseKw) + rng.noise(this.baseKw * 0.03));
    const q = p * Math.tan(Math.acos(this.pf));
    this.lastP = p;
    this.lastQ = q;
    this.lastInverse = Math.max(0, exportKw);
    this.peakKw = Math.max(this.peakKw, p);
    this.peakInverseKw = Math.max(this.peakInverseKw, this.lastInverse);
    this.peakInverseKvar = Math.max(this.peakInverseKvar, q);
    this.activeWh += (p * 1000 * dt) / 3600;
    this.reactiveVarh += (q * 1000 * dt) / 3600 / 1000;
    this.inverseWh += (this.lastInverse * 1000 * dt) / 3600;
  }

  record(): Record<string, unknown> {
    const pW = this.lastP * 1000;
    const qVar = this.lastQ * 1000;
    const sVa = Math.hypot(pW, qVar);
    const [va, vb, vc] = this.phases.v;
    const current = (k: number) => round((sVa / (3 * 219)) * this.phases.unbalance[k]!, 2);
    const lineV = (a: number, b: number) => round(((a + b) / 2) * Math.sqrt(3), 2);
    if (this.index % 2 === 1) {
      return {
        index: this.index,
        ACTIVEPOWERCONSUMPTION: round(this.activeWh, 0),
        FREQUENCY: round(this.freq, 2),
        IA: current(0),
        IB: current(1),
        IC: current(2),
        PF: round(pW / Math.max(1, sVa), 2),
        REACTIVEPOWERCONSUMPSION: round(this.reactiveVarh, 2),
        TOTALACTIVEPOWER: round(pW, 2),
        TOTALAPPARENTPOWER: round(sVa, 2),
        TOTALREACTIVEPOWER: round(qVar, 2),
        VA: round(va, 2),
        VAB: lineV(va, vb),
        VB: round(vb, 2),
        VBC: lineV(vb, vc),
        VC: round(vc, 2),
        VCA: lineV(vc, va),
      };
    }
    return {
      index: this.index,
      ACTIVEPOWERMAX: round(this.peakKw * 1000, 2),
      CTRATIO: 600,
      FREQUENCY: round(this.freq, 2),
      IINVERSE: 0,
      IA: current(0),
      IB: current(1),
      IC: current(2),
      INVERSEACTIVEPOWERMAX: round(this.peakInverseKw * 1000, 2),
      INVERSEREACTIVEPOWERMAX: round(this.peakInverseKvar * 1000, 2),
      IZERO: round(this.izero, 2),
      IZEROMAX: round(this.izeroMax, 2),
      LOADPERCENT: round((this.lastP / 500) * 100, 1),
      PTRATIO: 380,
      PRIMARYNCTRATIO: 5,
      TOTALACTIVEPOWERCONSUMPTION: round(this.activeWh, 0),
      TOTALACTIVEPOWER: round(pW, 2),
      TOTALINVERSEACTIVEPOWERCONSUMPTION: round(this.inverseWh, 0),
      TOTALINVERSEACTIVEPOWER: round(this.lastInverse * 1000, 2),
      TOTALPOWERFACTOR: round(pW / Math.max(1, sVa), 2),
      TOTALREACTIVEPOWER: round(qVar, 2),
      TOTALREACTIVEPOWERCONSUMPTION: round(this.reactiveVarh, 2),
      VA: round(va, 2),
      VAB: lineV(va, vb),
      VB: round(vb, 2),
      VBC: lineV(vb, vc),
      VC: round(vc, 2),
      VCA: lineV(vc, va),
      VOB: 0,
    };
  }
}

// ------------------------------------------------------------------------------------------------- PV

const CO2_KG_PER_KWH = 0.4663;

/** PV plant: output follows the sun over the site's local day, scaled by a slowly drifting cloud factor. */
export class PvModel {
  private clouds: number;
  private moduleTemp: number;
  private cumulativeKwh: number;
  private todayKwh = 0;
  private monthKwh: number;
  private yearKwh: number;
  private lastDay = '';
  private lastMonth = '';
  private lastYear = '';
  private acKw = 0;
  private insolation = 0;
  private slopeInsolation = 0;
  private outside = 20;
  private sun = { altitude: 0, azimuth: 0, sunrise: 6, sunset: 18 };
  private local: ZonedTime | undefined;
  private readonly capacityKw: number;

  private readonly index: number;
  private readonly latitude: number;
  private readonly longitude: number;

  constructor(index: number, latitude: number, longitude: number, rng: Prng) {
    this.index = index;
    this.latitude = latitude;
    this.longitude = longitude;
    this.clouds = rng.range(0.6, 1);
    this.capacityKw = round(rng.range(50, 100), 0);
    this.moduleTemp = rng.range(10, 25);
    this.cumulativeKwh = rng.range(5e4, 3e5);
    this.monthKwh = rng.range(0, 3000);
    this.yearKwh = this.monthKwh + rng.range(0, 30000);
  }

  get outputKw(): number {
    return this.acKw;
  }

  step({ rng, dt, w, local }: Tick): void {
    this.local = local;
    const day = `${local.year}-${local.month}-${local.day}`;
    if (this.lastDay !== '' && day !== this.lastDay) this.todayKwh = 0;
    if (this.lastMonth !== '' && `${local.year}-${local.month}` !== this.lastMonth) this.monthKwh = 0;
    if (this.lastYear !== '' && String(local.year) !== this.lastYear) this.yearKwh = 0;
    this.lastDay = day;
    this.lastMonth = `${local.year}-${local.month}`;
    this.lastYear = String(local.year);

    this.sun = sunPosition(this.latitude, local.dayOfYear, local.hours);
    this.clouds = rng.walk(this.clouds, 0.05 * w, 0.15, 1);
    const sinAlt = Math.max(0, Math.sin((this.sun.altitude * Math.PI) / 180));
    this.insolation = 1000 * sinAlt ** 1.15 * this.clouds;
    this.slopeInsolation = this.insolation * (sinAlt > 0 ? 1.12 : 0);
    const seasonal = 12 + 12 * Math.sin((2 * Math.PI * (local.dayOfYear - 110)) / 365);
    this.outside = seasonal + 6 * Math.sin(((local.hours - 9) * Math.PI) / 12) + rng.noise(0.2);
    const targetModule = this.outside + this.insolation * 0.03;
    this.moduleTemp += (targetModule - this.moduleTemp) * Math.min(1, dt / 600);
    const derate = 1 - Math.max(0, this.moduleTemp - 25) * 0.004;
    this.acKw = Math.min(this.capacityKw, (this.capacityKw * this.slopeInsolation * derate * 0.96) / 1000);
    const kwh = (this.acKw * dt) / 3600;
    this.cumulativeKwh += kwh;
    this.todayKwh += kwh;
    this.monthKwh += kwh;
    this.yearKwh += kwh;
  }

  record(): Record<string, unknown> {
    const t = this.local;
    return {
      index: this.index,
      AC_Power: round(this.acKw, 2),
      CumulativeCO2Saving: round((this.cumulativeKwh * CO2_KG_PER_KWH) / 1000, 2),
      CumulativePowerGeneration: round(this.cumulativeKwh, 2),
      DC_Power: round(this.acKw / 0.96, 2),
      InverterCapacity: this.capacityKw,
      Outsidetemperature: round(this.outside, 1),
      SolarAltitudeAngle: round(this.sun.altitude, 2),
      SolarAzimuthAngle: round(this.sun.azimuth, 2),
      ToDayCO2Saving: round(this.todayKwh * CO2_KG_PER_KWH, 2),
      ToDayPerPowerGeneration: round(this.todayKwh, 2),
      ToDaySunRisingTime_HHMM: hoursToHhmm(this.sun.sunrise),
      ToDaySunSetTime_HHMM: hoursToHhmm(this.sun.sunset),
      ToMonthPerPowerGeneration: round(this.monthKwh, 2),
      ToYearPoerPowerGeneration: round(this.yearKwh, 2),
      HorizontalInsolation: round(this.insolation, 1),
      Latitude: this.latitude,
      Longitude: this.longitude,
      ModuleTemperature: round(this.moduleTemp, 1),
      PowerGenerationEfficiency: round(this.slopeInsolation > 1 ? 14 + this.clouds * 4 : 0, 2),
      SlopeInsolation: round(this.slopeInsolation, 1),
      StringCapacity: round(this.capacityKw * 0.99, 2),
      SystemDate_YYYYMMDD: t ? t.year * 10_000 + t.month * 100 + t.day : 0,
      SystemHours_HHMMSS: t ? t.hour * 10_000 + t.minute * 100 + t.second : 0,
    };
  }
}

// ------------------------------------------------------------------------------------------ EV charger

/** EV charger power meter: idle between charging sessions of random length. */
export class EvChargerModel {
  private charging = false;
  private sessionLeft = 0;
  private sessionAmps = 0;
  private activeWh: number;
  private apparentVah: number;
  private reactiveVarh: number;
  private pf = 0;
  private readonly v: [number, number, number];
  private readonly ctRatio: number;
  private readonly demandTime: number;
  private amps: [number, number, number] = [0, 0, 0];
  private freq = 60.2;

  private readonly index: number;

  constructor(index: number, rng: Prng) {
    this.index = index;
    this.activeWh = rng.range(5e4, 3e6);
    this.apparentVah = this.activeWh * rng.range(1.01, 3);
    this.reactiveVarh = rng.range(100, 2e6);
    this.v = [rng.range(215, 218), rng.range(215, 218), rng.range(215, 218)];
    this.ctRatio = rng.chance(0.5) ? 30 : 40;
    this.demandTime = rng.int(1, 20);
  }

  step({ rng, dt, w }: Tick): void {
    if (this.charging) {
      this.sessionLeft -= dt;
      if (this.sessionLeft <= 0) this.charging = false;
    } else if (rng.chance(within(dt, 1800))) {
      this.charging = true;
      this.sessionLeft = rng.range(600, 7200);
      this.sessionAmps = rng.range(10, 32);
    }
    this.freq = 60.2 + rng.noise(0.03);
    for (let i = 0; i < 3; i++) this.v[i] = rng.walk(this.v[i]!, 0.8 * w, 212, 222);
    this.amps = this.charging
      ? [
          this.sessionAmps + rng.noise(0.3),
          this.sessionAmps + rng.noise(0.3),
          this.sessionAmps + rng.noise(0.3),
        ]
      : [0, 0, 0];
    this.pf = this.charging ? clamp(0.97 + rng.noise(0.01), 0.9, 1) : 0;
    const sVa = this.apparentW();
    this.activeWh += (sVa * this.pf * dt) / 3600;
    this.apparentVah += (sVa * dt) / 3600;
    this.reactiveVarh += (sVa * Math.sqrt(Math.max(0, 1 - this.pf ** 2)) * dt) / 3600;
  }

  private apparentW(): number {
    return this.amps.reduce((s, a, i) => s + a * this.v[i]!, 0);
  }

  record(): Record<string, unknown> {
    const sVa = this.apparentW();
    const p = sVa * this.pf;
    const q = sVa * Math.sqrt(Math.max(0, 1 - this.pf ** 2));
    const [va, vb, vc] = this.v;
    const avgV = (va + vb + vc) / 3;
    const iavg = (this.amps[0] + this.amps[1] + this.amps[2]) / 3;
    const ratedAmps = this.ctRatio;
    return {
      index: this.index,
      ActivePowerConsumption: round(this.activeWh, 1),
      ActivePowerConsumptionGigaCounter: 0,
      ApparantPowerConsumption: round(this.apparentVah, 1),
      ApparantPowerConsumptionGigaCounter: 0,
      CT_Ratio: this.ctRatio,
      DI1_Counter: 0,
      DI2_Counter: 0,
      DI_DebounceTime: 0,
      DemandTime: this.demandTime,
      Frequency: round(this.freq, 2),
      Ia: round(this.amps[0], 2),
      Iavg: round(iavg, 2),
      Ib: round(this.amps[1], 2),
      Ic: round(this.amps[2], 2),
      Load_Factor_of_Phase_A: round((this.amps[0] / ratedAmps) * 100, 1),
      Load_Factor_of_Phase_B: round((this.amps[1] / ratedAmps) * 100, 1),
      Load_Factor_of_Phase_C: round((this.amps[2] / ratedAmps) * 100, 1),
      PT_Ratio: 1,
      Pf: round(this.pf, 2),
      ReactivePowerCounsumption: round(this.reactiveVarh, 2),
      ReactivePowerCounsumptionGigaCounter: 0,
      TotalActivePower: round(p / 1000, 2),
      TotalApparentPower: round(sVa / 1000, 2),
      TotalReactivePower: round(q / 1000, 2),
      Va: round(va, 2),
      Vab: round(((va + vb) / 2) * Math.sqrt(3), 2),
      Vavg: round(avgV, 0),
      Vb: round(vb, 2),
      Vc: round(vc, 2),
      Vca: round(((vc + va) / 2) * Math.sqrt(3), 2),
    };
  }
}
