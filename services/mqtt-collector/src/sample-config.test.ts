import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMqttConfigFile } from './mqtt-config.js';

describe('sample/mqtt/collector-local.yaml', () => {
  it('is a valid broker file', () => {
    const { config, problems } = loadMqttConfigFile(
      join(import.meta.dirname, '../../../sample/mqtt/collector-local.yaml'),
      {},
    );
    expect(problems).toEqual([]);
    expect(config!.brokers[0]!.subscriptions.map((s) => [s.kind, s.filter])).toEqual([
      ['json', 'site/+/meter/+'],
      ['sparkplug', 'spBv1.0/gridstream/#'],
    ]);
  });
});
