import { join } from 'node:path';
import { decodeRead, planDeviceReads } from '@gridstream/modbus';
import modbusSerial from 'modbus-serial';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ModbusSimulator, startModbusSimulator } from './modbus-server.js';

const ESS_PROFILE = join(import.meta.dirname, '../../../sample/profiles/ess-sionyu.yaml');
const ModbusRTU = modbusSerial.default;

describe('Modbus simulator (ESS profile) on loopback', () => {
  let sim: ModbusSimulator;
  const client = new ModbusRTU();

  beforeAll(async () => {
    sim = await startModbusSimulator({ port: 0, profile: ESS_PROFILE, seed: 7, updateIntervalMs: 0 });
    await client.connectTCP('127.0.0.1', { port: sim.port });
    client.setID(1);
    client.setTimeout(2_000);
  });

  afterAll(async () => {
    client.close(() => undefined);
    await sim.stop();
  });

  /** Reads every planned block and decodes it with the collector's decoder. */
  async function readAll(): Promise<Map<string, unknown>> {
    const out = new Map<string, unknown>();
    for (const request of planDeviceReads(sim.profile)) {
      const { data } = await client.readInputRegisters(request.address, request.count);
      for (const r of decodeRead(request, data)) {
        expect(r.bad).toBe(false);
        out.set(`${r.point.device}/${r.point.rack ?? ''}/${r.point.name}`, r.value);
      }
    }
    return out;
  }

  it('serves registers that decode to exactly the values it reports, tick after tick', async () => {
    let negativeCurrents = 0;
    let previousSoc: unknown;
    let socMoved = false;
    for (let i = 0; i < 20; i++) {
      const decoded = await readAll();
      for (const { point, value } of sim.values()) {
        expect(decoded.get(`${point.device}/${point.rack ?? ''}/${point.name}`)).toBe(value);
        if (point.name === 'current' && typeof value === 'number' && value < 0) negativeCurrents++;
      }
      const soc = decoded.get('bank//soc') as number;
      expect(soc).toBeGreaterThanOrEqual(20);
      expect(soc).toBeLessThanOrEqual(90);
      if (previousSoc !== undefined && previousSoc !== soc) socMoved = true;
      previousSoc = soc;
      const cell = decoded.get('bank/1/max_cell_voltage') as number;
      expect(cell).toBeGreaterThanOrEqual(3.2);
      expect(cell).toBeLessThanOrEqual(3.4);
      sim.tick();
    }
    expect(socMoved).toBe(true);
    expect(negativeCurrents).toBeGreaterThan(0); // Int16 two's complement on the wire
  });

  it('a silent unit does not answer; other unit ids never answer', async () => {
    sim.silence(true);
    client.setTimeout(200);
    await expect(client.readInputRegisters(0, 1)).rejects.toMatchObject({ name: 'TransactionTimedOutError' });
    sim.silence(false);
    client.setID(2);
    await expect(client.readInputRegisters(0, 1)).rejects.toMatchObject({ name: 'TransactionTimedOutError' });
    client.setID(1);
    client.setTimeout(2_000);
    expect((await client.readInputRegisters(0, 1)).data).toHaveLength(1);
  });
});
