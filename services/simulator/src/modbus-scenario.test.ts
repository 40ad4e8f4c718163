import { join } from 'node:path';
import { decodeRead, planDeviceReads } from '@gridstream/modbus';
import modbusSerial from 'modbus-serial';
import { afterEach, describe, expect, it } from 'vitest';
import { simulatorConfigSchema } from './config.js';
import {
  OVER_TEMPERATURE_CYCLE_PERIODS,
  overTemperatureAt,
  overTemperatureScenario,
} from './modbus-scenario.js';
import { type ModbusSimulator, startModbusSimulator } from './modbus-server.js';

const ESS_PROFILE = join(import.meta.dirname, '../../../sample/profiles/ess-sionyu.yaml');
const ModbusRTU = modbusSerial.default;

describe('over-temperature timeline', () => {
  const P = 1_000;

  it('goes normal → warm → hot (held two periods) → warm → normal, in steps of one period', () => {
    const at = (periods: number) => overTemperatureAt(periods * P, { periodMs: P, rack: '3' });
    expect([0, 0.99, 1, 1.5, 2, 3.99, 4, 4.99, 5, 9.99].map(at)).toEqual([
      30, 30, 52, 52, 57, 57, 52, 52, 30, 30,
    ]);
    expect(OVER_TEMPERATURE_CYCLE_PERIODS).toBe(10);
    // Repeats by default...
    expect(at(11)).toBe(52);
    expect(at(12)).toBe(57);
  });

  it('plays only `cycles` cycles when asked, then stays normal', () => {
    const at = (periods: number) => overTemperatureAt(periods * P, { periodMs: P, rack: '3', cycles: 1 });
    expect(at(2)).toBe(57);
    expect([11, 12, 13, 100].map(at)).toEqual([30, 30, 30, 30]);
  });

  it('heats the rack as a whole: min, average and gap follow the max', () => {
    const scenario = overTemperatureScenario({ periodMs: P, rack: '3' });
    expect(scenario.valuesAt(2.5 * P)).toEqual([
      { name: 'max_cell_temperature', rack: '3', value: 57 },
      { name: 'min_cell_temperature', rack: '3', value: 55 },
      { name: 'cell_temperature_average', rack: '3', value: 56 },
      { name: 'cell_temperature_gap', rack: '3', value: 2 },
    ]);
  });
});

describe('SIM_MODBUS_SCENARIO configuration', () => {
  it('defaults to no scenario, a 60 s period, rack 1, forever', () => {
    const cfg = simulatorConfigSchema.parse({});
    expect(cfg.SIM_MODBUS_SCENARIO).toBe('none');
    expect(cfg.SIM_MODBUS_SCENARIO_PERIOD_MS).toBe(60_000);
    expect(cfg.SIM_MODBUS_SCENARIO_RACK).toBe('1');
    expect(cfg.SIM_MODBUS_SCENARIO_CYCLES).toBe(0);
  });

  it('refuses an unknown scenario by name', () => {
    const result = simulatorConfigSchema.safeParse({ SIM_MODBUS_SCENARIO: 'fire' });
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.path).toEqual(['SIM_MODBUS_SCENARIO']);
  });
});

describe('Modbus simulator with the over-temperature scenario', () => {
  let sim: ModbusSimulator | undefined;
  const client = new ModbusRTU();
  afterEach(async () => {
    client.close(() => undefined);
    await sim?.stop();
  });

  async function rackTemperatures(rack: string): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const request of planDeviceReads(sim!.profile)) {
      const { data } = await client.readInputRegisters(request.address, request.count);
      for (const r of decodeRead(request, data))
        if (r.point.rack === rack && /temperature/.test(r.point.name)) out[r.point.name] = r.value;
    }
    return out;
  }

  it('serves the timeline on the wire for that rack only, and the walk does not move it', async () => {
    const P = 400;
    sim = await startModbusSimulator({
      port: 0,
      profile: ESS_PROFILE,
      seed: 3,
      updateIntervalMs: 50,
      scenario: overTemperatureScenario({ periodMs: P, rack: '3', cycles: 1 }),
    });
    await client.connectTCP('127.0.0.1', { port: sim.port });
    client.setID(1);
    client.setTimeout(2_000);

    const sleepUntil = (ms: number, started: number) =>
      new Promise((r) => setTimeout(r, Math.max(0, started + ms - Date.now())));
    const started = Date.now();
    const seen: number[] = [];
    for (const at of [0.5, 1.5, 2.5, 3.5, 4.5, 6]) {
      await sleepUntil(at * P, started);
      const t = await rackTemperatures('3');
      seen.push(t.max_cell_temperature as number);
      expect(t.min_cell_temperature).toBe((t.max_cell_temperature as number) - 2);
      expect(t.cell_temperature_average).toBe((t.max_cell_temperature as number) - 1);
      expect(t.cell_temperature_gap).toBe(2);
    }
    expect(seen).toEqual([30, 52, 57, 57, 52, 30]);
    // Other racks keep walking in their normal band.
    const other = (await rackTemperatures('4')).max_cell_temperature as number;
    expect(other).toBeGreaterThanOrEqual(20);
    expect(other).toBeLessThanOrEqual(35);
  });
});
