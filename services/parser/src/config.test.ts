import { ConfigError, loadConfig } from '@gridstream/config';
import { describe, expect, it } from 'vitest';
import { parserConfigSchema } from './config.js';

describe('parser configuration: quality stage variables', () => {
  it('defaults: stage off, fences off', () => {
    const cfg = loadConfig(parserConfigSchema, {});
    expect(cfg.QUALITY_CONFIG).toBeUndefined();
    expect(cfg.QUALITY_FENCES_INTERVAL_MS).toBe(0);
    expect(cfg.QUALITY_FENCES_WINDOW).toBe('7d');
    // Resampled unless asked otherwise: raw values of the whole window would all come into memory.
    expect(cfg.QUALITY_FENCES_RESAMPLE).toBe('1m');
    expect(loadConfig(parserConfigSchema, { QUALITY_FENCES_RESAMPLE: 'raw' }).QUALITY_FENCES_RESAMPLE).toBe(
      'raw',
    );
    expect(loadConfig(parserConfigSchema, { QUALITY_FENCES_RESAMPLE: '1d' }).QUALITY_FENCES_RESAMPLE).toBe(
      '1d',
    );
    expect(cfg.KAFKA_TOPIC_ALARMS).toBe('telemetry.alarms');
  });

  it('lists every bad variable by name', () => {
    let error: unknown;
    try {
      loadConfig(parserConfigSchema, {
        QUALITY_MISSING_CHECK_MS: 'soon',
        QUALITY_FENCES_INTERVAL_MS: '60000',
        QUALITY_FENCES_WINDOW: '7 days; DROP DATABASE telemetry',
        QUALITY_FENCES_RESAMPLE: '1x',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const text = String((error as Error).message);
    for (const name of [
      'QUALITY_MISSING_CHECK_MS',
      'QUALITY_FENCES_WINDOW',
      'QUALITY_FENCES_RESAMPLE',
      'QUALITY_FENCES_INTERVAL_MS', // on, but no QUALITY_CONFIG to say which fields
    ]) {
      expect(text).toContain(name);
    }
  });
});
