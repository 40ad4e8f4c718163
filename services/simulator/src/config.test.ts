import { loadConfig } from '@gridstream/config';
import { describe, expect, it } from 'vitest';
import { simulatorConfigSchema, siteIds } from './config.js';

describe('simulator config', () => {
  it('has the documented defaults', () => {
    const cfg = loadConfig(simulatorConfigSchema, {});
    expect(cfg).toMatchObject({
      SIM_RATE: 20,
      SIM_SITES: 20,
      SIM_TIMEZONE: 'Asia/Seoul',
      SIM_BATTERIES: 3,
      SIM_RACKS_PER_BATTERY: 1,
      AMQP_EXCHANGE: 'microgrid',
    });
    expect(cfg.SIM_MESSAGES).toBeUndefined();
    expect(siteIds(cfg.SIM_SITES).slice(0, 2)).toEqual(['000001', '000002']);
    expect(siteIds(cfg.SIM_SITES)).toHaveLength(20);
  });

  it('accepts fractional rates and names every bad variable', () => {
    expect(loadConfig(simulatorConfigSchema, { SIM_RATE: '0.5' }).SIM_RATE).toBe(0.5);
    expect(() =>
      loadConfig(simulatorConfigSchema, {
        SIM_RATE: '0',
        SIM_TIMEZONE: 'Mars/Olympus',
        SIM_RACKS_PER_BATTERY: '0',
      }),
    ).toThrow(/SIM_RATE[\s\S]*SIM_RACKS_PER_BATTERY[\s\S]*SIM_TIMEZONE|3 problems/);
  });
});
