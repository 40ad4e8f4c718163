import { createServer } from 'node:net';
import {
  type DeviceProfile,
  decodePoint,
  encodePoint,
  loadProfile,
  type ProfilePoint,
} from '@gridstream/modbus';
import modbusSerial from 'modbus-serial';
import type { ModbusScenario } from './modbus-scenario.js';
import { Prng } from './prng.js';

// modbus-serial is CommonJS; TypeScript sees its module object as a namespace (ServerTCP is on it at run time too).
const { ServerTCP } = modbusSerial;
type ServerTCP = InstanceType<typeof ServerTCP>;

export interface ModbusSimulatorOptions {
  /** TCP port; 0 picks a free one (see `port` on the result). */
  port: number;
  host?: string;
  /** A loaded profile or the path of a profile YAML file (e.g. sample/profiles/ess-sionyu.yaml). */
  profile: DeviceProfile | string;
  /** The unit id this server answers; requests for other ids get no answer, like an absent slave. Default: the profile's. */
  unitId?: number;
  /**
   * More unit ids behind the same port, each an independent device of the same profile (a gateway with
   * several slaves on its RS485 side). Includes `unitId` when given.
   */
  unitIds?: number[];
  seed?: number;
  /** How often values move; 0 freezes them (tests that compare exact values). Default 1000 ms. */
  updateIntervalMs?: number;
  /**
   * A scripted episode (modbus-scenario.ts) for the first unit: its points follow the scenario's timeline,
   * counted from the start of the server, and are left out of the random walk.
   */
  scenario?: ModbusScenario;
}

export interface SimulatedValue {
  point: ProfilePoint;
  /** What a correct decoder yields for the registers served now: decode(encode(value)) === value. */
  value: number | boolean;
}

export interface ModbusSimulator {
  readonly host: string;
  readonly port: number;
  /** The first (or only) unit id served. */
  readonly unitId: number;
  readonly unitIds: readonly number[];
  readonly profile: DeviceProfile;
  /** The values a unit serves right now, one per numeric/bool point of the profile (strings are not simulated). */
  values(unitId?: number): SimulatedValue[];
  /**
   * Serves `value` for every point named `name` (narrowed by `rack` — null: only points without a rack —
   * and `device`); returns what is served, i.e. the value after rounding to the register.
   */
  set(
    name: string,
    value: number | boolean,
    where?: { rack?: string | null; device?: string; unitId?: number },
  ): number | boolean;
  /** A silent unit receives requests and never answers (a dead slave on a live bus): clients time out. */
  silence(on: boolean, unitId?: number): void;
  /** One step of every value's walk (the timer calls it; tests may call it by hand). */
  tick(): void;
  stop(): Promise<void>;
}

/** How a point's value moves: a reflected random walk inside [min, max], or a counter that only grows. */
interface Behaviour {
  min: number;
  max: number;
  step: number;
  grows?: boolean;
}

const BIT_FUNCTIONS = new Set(['coil', 'discrete_input']);

/**
 * Plausible values by field name, for the kinds of points an ESS, PCS or meter profile holds; anything
 * unknown walks in the lower part of its valid range. Signed types get a band around zero, so currents
 * and powers go negative (charging) and exercise two's complement on the wire.
 */
function behaviourFor(point: ProfilePoint): Behaviour {
  const name = point.name.toUpperCase();
  const signed =
    point.type === 'int16' || point.type === 'int32' || point.type === 'float32' || point.type === 'float64';
  const band = (min: number, max: number, step: number): Behaviour => ({ min, max, step });
  // Alarm, status and protection words: normally all clear (0), as on a healthy site.
  if (/WARNING|ALARM|FAULT|STATUS|PROTECTION|ERROR/.test(name)) return band(0, 0, 0);
  // Setpoints and trip levels are configured, not measured: steady.
  if (/^SET_|TRIP|CONTROL/.test(name)) {
    if (/SOC_LOW/.test(name)) return band(10, 10, 0);
    if (/SOC_HIGH/.test(name)) return band(95, 95, 0);
    if (/VBAT_LOW/.test(name)) return band(700, 700, 0);
    if (/VBAT_HIGH/.test(name)) return band(900, 900, 0);
    if (/POWER/.test(name)) return band(-100, -100, 0); // charging at 100 kW
    return band(1, 1, 0);
  }
  if (/CUMUL|GENERATION|ENERGY|ACCUMULATED|_KWH|TOTAL/.test(name))
    return { min: 1000, max: 1e9, step: 0.5, grows: true };
  if (/POSITION|INDEX/.test(name)) return band(1, 20, 3);
  if (/SOH/.test(name)) return band(96, 99.5, 0.05);
  if (/SOC/.test(name)) return band(20, 90, 0.1);
  if (/TEMP/.test(name)) return /GAP/.test(name) ? band(0.5, 3, 0.1) : band(20, 35, 0.1);
  if (/HUMID/.test(name)) return band(35, 60, 0.2);
  if (/CELL.*VOLT|VOLT.*CELL|CELL_VOLTAGE/.test(name))
    return /GAP/.test(name) ? band(0.005, 0.05, 0.002) : band(3.2, 3.4, 0.002);
  // Inside the 120 A rack limit of sample/quality/ess-protection.yaml: a healthy simulated site raises no
  // over_current alarm (±150 A tripped it on every rack within minutes and buried the scripted episodes).
  if (/CURRENT/.test(name)) return signed ? band(-100, 100, 5) : band(0, 100, 5);
  if (/FACTOR/.test(name)) return band(95, 99.9, 0.1);
  if (/THD/.test(name)) return band(1, 4, 0.05);
  if (/POWER/.test(name)) return signed ? band(-250, 250, 10) : band(0, 250, 10);
  if (/AC_.*VOLT|L[123]_VOLT/.test(name)) return band(375, 385, 0.3);
  if (/VOLT/.test(name)) return band(700, 850, 0.5);
  if (/FREQ/.test(name)) return band(59.9, 60.1, 0.01);
  const lo = point.range?.min ?? 0;
  const hi = point.range?.max ?? lo + 100;
  const top = lo + Math.min(hi - lo, Math.max(1, (hi - lo) * 0.1));
  return band(lo, top, (top - lo) / 50 || 1);
}

/** The behaviour's band, narrowed to what the profile's range and the register type can hold. */
function clampBand(point: ProfilePoint, b: Behaviour): Behaviour {
  let { min, max } = b;
  if (point.range?.min !== undefined) min = Math.max(min, point.range.min);
  if (point.range?.max !== undefined) max = Math.min(max, point.range.max);
  const limits: Partial<Record<ProfilePoint['type'], [number, number]>> = {
    int16: [-0x8000, 0x7fff],
    uint16: [0, 0xffff],
    int32: [-0x80000000, 0x7fffffff],
    uint32: [0, 0xffffffff],
  };
  const raw = limits[point.type];
  if (raw) {
    const a = raw[0] * point.scale + point.offset;
    const z = raw[1] * point.scale + point.offset;
    min = Math.max(min, Math.min(a, z));
    max = Math.min(max, Math.max(a, z));
  }
  if (min > max) max = min;
  return { ...b, min, max };
}

/** A free TCP port on `host` (modbus-serial treats port 0 as "use 502", so it cannot pick one itself). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ port: 0, host }, () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * A Modbus TCP slave serving a device profile's registers with plausible, changing values, encoded with
 * the same codec the collector decodes with (packages/modbus), so every type and word order of the
 * profile is exercised on the wire: Int16 currents go negative, UInt16 voltages stay unsigned, Float32
 * words follow the profile's order. Holding registers and coils accept writes.
 */
export async function startModbusSimulator(options: ModbusSimulatorOptions): Promise<ModbusSimulator> {
  const host = options.host ?? '127.0.0.1';
  const profile =
    typeof options.profile === 'string' ? (await loadProfile(options.profile)).profile : options.profile;
  const unitId = options.unitId ?? options.unitIds?.[0] ?? profile.unitId;
  const unitIds = [...new Set([unitId, ...(options.unitIds ?? [])])];
  const baseSeed = options.seed ?? 1;
  const units = new Map(
    unitIds.map((id) => [id, simulatedUnit(profile, new Prng((baseSeed + id * 7919) >>> 0))]),
  );
  const unit = (id = unitId): SimulatedUnit => {
    const u = units.get(id);
    if (!u) throw new Error(`unit ${id} is not simulated here (units: ${unitIds.join(', ')})`);
    return u;
  };

  // Callback-style handlers (modbus-serial picks the style by arity): a silent or unknown unit simply
  // never calls back, so the request goes unanswered as on a real bus.
  type Cb<T> = (err: Error | null, value: T) => void;
  const live = (id: number): SimulatedUnit | undefined => {
    const u = units.get(id);
    return u && !u.silent ? u : undefined;
  };
  const vector = {
    getInputRegister: (addr: number, id: number, cb: Cb<number>) => {
      const u = live(id);
      if (u) cb(null, u.registers.input[addr] ?? 0);
    },
    getHoldingRegister: (addr: number, id: number, cb: Cb<number>) => {
      const u = live(id);
      if (u) cb(null, u.registers.holding[addr] ?? 0);
    },
    getMultipleInputRegisters: (addr: number, length: number, id: number, cb: Cb<number[]>) => {
      const u = live(id);
      if (u) cb(null, Array.from(u.registers.input.subarray(addr, addr + length)));
    },
    getMultipleHoldingRegisters: (addr: number, length: number, id: number, cb: Cb<number[]>) => {
      const u = live(id);
      if (u) cb(null, Array.from(u.registers.holding.subarray(addr, addr + length)));
    },
    getCoil: (addr: number, id: number, cb: Cb<boolean>) => {
      const u = live(id);
      if (u) cb(null, u.bits.coil[addr] === 1);
    },
    getDiscreteInput: (addr: number, id: number, cb: Cb<boolean>) => {
      const u = live(id);
      if (u) cb(null, u.bits.discrete_input[addr] === 1);
    },
    setRegister: (addr: number, value: number, id: number, cb: (err: Error | null) => void) => {
      const u = live(id);
      if (!u) return;
      u.registers.holding[addr] = value & 0xffff;
      cb(null);
    },
    setCoil: (addr: number, value: boolean, id: number, cb: (err: Error | null) => void) => {
      const u = live(id);
      if (!u) return;
      u.bits.coil[addr] = value ? 1 : 0;
      cb(null);
    },
  };

  const port = options.port === 0 ? await freePort(host) : options.port;
  const server: ServerTCP = await new Promise((resolve, reject) => {
    // unitID 255: the server hands every request to the vector, which answers only simulated units.
    const s = new ServerTCP(vector, { host, port, unitID: 255 });
    s.once('initialized', () => resolve(s));
    s.once('serverError', (error: Error | null) =>
      reject(error ?? new Error(`cannot listen on ${host}:${port}`)),
    );
  });
  // A client that vanishes mid-frame must not take the simulator down.
  server.on('socketError', () => undefined);
  server.on('error', () => undefined);

  const updateMs = options.updateIntervalMs ?? 1000;
  const tick = () => {
    for (const u of units.values()) u.tick();
  };
  const timer = updateMs > 0 ? setInterval(tick, updateMs) : undefined;
  timer?.unref();

  // The scenario is applied on its own fine-grained timer, not on the walk's tick: a step of the timeline
  // then reaches the registers within SCENARIO_RESOLUTION_MS, whatever updateIntervalMs is (even 0).
  const scenario = options.scenario;
  let scenarioTimer: NodeJS.Timeout | undefined;
  if (scenario) {
    const started = Date.now();
    const scripted = unit();
    const apply = () => {
      for (const pin of scenario.valuesAt(Date.now() - started)) scripted.pin(pin.name, pin.value, pin.rack);
    };
    apply();
    scenarioTimer = setInterval(apply, SCENARIO_RESOLUTION_MS);
    scenarioTimer.unref();
  }

  return {
    host,
    port,
    unitId,
    unitIds,
    profile,
    values: (id) => unit(id).values(),
    set: (name, value, where = {}) => unit(where.unitId).set(name, value, where),
    silence(on, id) {
      unit(id).silent = on;
    },
    tick,
    stop: () =>
      new Promise<void>((resolve) => {
        if (timer) clearInterval(timer);
        if (scenarioTimer) clearInterval(scenarioTimer);
        server.close(() => resolve());
      }),
  };
}

/** How often a scenario's timeline is re-evaluated. */
const SCENARIO_RESOLUTION_MS = 100;

interface SimulatedUnit {
  registers: { input: Uint16Array; holding: Uint16Array };
  bits: { coil: Uint8Array; discrete_input: Uint8Array };
  silent: boolean;
  values(): SimulatedValue[];
  set(
    name: string,
    value: number | boolean,
    where: { rack?: string | null; device?: string },
  ): number | boolean;
  /** Serves `value` for `name` (of `rack`, null: no rack) and keeps the point out of the walk from now on. */
  pin(name: string, value: number, rack: string | null): void;
  tick(): void;
}

/** One slave's register image and the walks of its values. */
function simulatedUnit(profile: DeviceProfile, prng: Prng): SimulatedUnit {
  const registers = { input: new Uint16Array(65536), holding: new Uint16Array(65536) };
  const bits = { coil: new Uint8Array(65536), discrete_input: new Uint8Array(65536) };
  const points = profile.points.filter((p) => p.type !== 'string');
  const state = points.map((point) => {
    const behaviour = clampBand(point, behaviourFor(point));
    const start =
      BIT_FUNCTIONS.has(point.function) || point.type === 'bit'
        ? false
        : behaviour.grows
          ? behaviour.min + prng.range(0, 50_000)
          : prng.range(behaviour.min, behaviour.max);
    return { point, behaviour, value: start as number | boolean };
  });

  /** Writes one value into the register image and returns what a decoder will read back from it. */
  const serve = (point: ProfilePoint, value: number | boolean): number | boolean => {
    if (BIT_FUNCTIONS.has(point.function)) {
      const on = value === true || value === 1;
      bits[point.function as 'coil' | 'discrete_input'][point.address] = on ? 1 : 0;
      return on;
    }
    const image = registers[point.function as 'input' | 'holding'];
    const words = encodePoint(point, value, image[point.address]) as number[];
    words.forEach((w, i) => {
      image[point.address + i] = w;
    });
    const back = decodePoint(point, image, point.address);
    if (back.bad || back.value === undefined || typeof back.value === 'string') {
      throw new Error(
        `${point.name}: ${value} does not survive its own encoding (${back.reason ?? 'no value'})`,
      );
    }
    return back.value;
  };

  for (const s of state) s.value = serve(s.point, s.value);
  /** Points a scenario holds; the walk leaves them alone. */
  const pinned = new Set<(typeof state)[number]>();

  return {
    registers,
    bits,
    silent: false,
    values: () => state.map((s) => ({ point: s.point, value: s.value })),
    set(name, value, where) {
      let served: number | boolean | undefined;
      for (const s of state) {
        if (s.point.name !== name) continue;
        if (where.rack !== undefined && (s.point.rack ?? null) !== where.rack) continue;
        if (where.device !== undefined && s.point.device !== where.device) continue;
        s.value = serve(s.point, value);
        served = s.value;
      }
      if (served === undefined)
        throw new Error(`no point ${name} ${JSON.stringify(where)} in profile ${profile.name}`);
      return served;
    },
    pin(name, value, rack) {
      let found = false;
      for (const s of state) {
        if (s.point.name !== name || (s.point.rack ?? null) !== rack) continue;
        found = true;
        pinned.add(s);
        if (s.value !== value) s.value = serve(s.point, value);
      }
      if (!found)
        throw new Error(`scenario: no point ${name} (rack ${rack ?? 'none'}) in profile ${profile.name}`);
    },
    tick() {
      for (const s of state) {
        if (pinned.has(s)) continue;
        if (typeof s.value === 'boolean') {
          // Status flags: mostly steady, an occasional alarm that clears again.
          if (prng.chance(0.01)) s.value = serve(s.point, !s.value);
          continue;
        }
        const b = s.behaviour;
        const next = b.grows
          ? Math.min(b.max, s.value + prng.range(0, b.step))
          : prng.walk(s.value, b.step, b.min, b.max);
        s.value = serve(s.point, next);
      }
    },
  };
}
