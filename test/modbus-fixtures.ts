import type { Sample } from '@gridstream/schema';

/**
 * A device profile with every type and word order the profile format has, the register words a device
 * would hold for it, and the samples those words must become — written down by hand, not computed with
 * our own codec, so a word-order, sign or scaling bug cannot cancel itself out.
 */
export const INTEROP_PROFILE = `
name: interop-meter
site: profile-site          # overridden by the collector config
unitId: 1                   # overridden by the collector config (7)
pollIntervalMs: 400
timeoutMs: 300
retries: 1
equipment: meter
device: m1
points:
  - { name: voltage, function: input, address: 0, type: uint16, scale: 0.1, unit: V, range: { min: 0, max: 6553.5 } }
  - { name: current, function: input, address: 1, type: int16, scale: 0.01, unit: A, range: { min: -300, max: 300 } }
  - { name: power_abcd, function: input, address: 2, type: float32, order: ABCD, unit: kW }
  - { name: power_cdab, function: input, address: 4, type: float32, order: CDAB, unit: kW }
  - { name: energy, function: input, address: 6, type: uint32, order: CDAB, scale: 0.001, unit: kWh }
  - { name: delta, function: input, address: 8, type: int32, order: ABCD }
  - { name: temperature, function: input, address: 10, type: int16, scale: 0.1, unit: degC, range: { min: -40, max: 85 } }
  - { name: alarm, function: input, address: 12, type: bit, bit: 3 }
  - { name: frequency, function: input, address: 20, type: float64, order: ABCD, unit: Hz }
  - { name: RACK_SOC, function: input, address: 30, type: uint16, scale: 0.1, unit: '%', range: { min: 0, max: 100 }, equipment: battery, device: bank, rack: '2' }
  - { name: running, function: coil, address: 5, type: bool }
  - { name: door_open, function: discrete_input, address: 2, type: bool }
  - { name: setpoint, function: holding, address: 100, type: int16, scale: 0.1, unit: kW, device: m1-ctrl }
`;

export const INTEROP_REGISTERS = {
  input: {
    0: 40000, // UInt16 above 32767: 4000.0 V, not negative
    1: 0xff38, // Int16 -200 -> -2.00 A
    2: 0x4148, // float32 12.5 = 0x41480000, ABCD
    3: 0x0000,
    4: 0x0000, // float32 -3.75 = 0xC0700000, CDAB: low word first
    5: 0xc070,
    6: 0x5678, // uint32 0x12345678 = 305419896, CDAB -> 305419.896 kWh
    7: 0x1234,
    8: 0xfffe, // int32 -100000 = 0xFFFE7960, ABCD
    9: 0x7960,
    10: 900, // 90.0 degC: above the range max 85 -> kept and flagged out_of_range
    12: 0x0008, // bit 3 set
    20: 0x404e, // float64 60.0 = 0x404E000000000000
    30: 655, // 65.5 %
  },
  holding: { 100: 0xfb2e }, // Int16 -1234 -> -123.4 kW
  coils: { 5: 1 as const },
  discrete: { 2: 0 as const },
};

/** Expected samples, by hand, keyed `equipment/device/rack`. */
export function expectedInteropSamples(site: string): Record<string, Omit<Sample, 'ts'>> {
  return {
    'meter/m1/': {
      site,
      equipment: 'meter',
      device: 'm1',
      fields: {
        voltage: 4000,
        current: -2,
        power_abcd: 12.5,
        power_cdab: -3.75,
        energy: 305419.896,
        delta: -100000,
        temperature: 90,
        frequency: 60,
      },
      flags: { alarm: true, running: true, door_open: false },
      quality: { temperature: ['out_of_range'] },
    },
    'meter/m1-ctrl/': { site, equipment: 'meter', device: 'm1-ctrl', fields: { setpoint: -123.4 } },
    'battery/bank/2': { site, equipment: 'battery', device: 'bank', rack: '2', fields: { RACK_SOC: 65.5 } },
  };
}

export function byRecord(samples: Sample[]): Record<string, Omit<Sample, 'ts'>> {
  const out: Record<string, Omit<Sample, 'ts'>> = {};
  for (const { ts: _ts, ...rest } of samples)
    out[`${rest.equipment}/${rest.device}/${rest.rack ?? ''}`] = rest;
  return out;
}
