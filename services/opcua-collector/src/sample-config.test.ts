import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOpcuaConfigFile } from './opcua-config.js';

describe('sample/opcua/collector-local.yaml', () => {
  it('is a valid endpoint file', () => {
    const { config, problems } = loadOpcuaConfigFile(
      join(import.meta.dirname, '../../../sample/opcua/collector-local.yaml'),
      {},
    );
    expect(problems).toEqual([]);
    expect(config!.endpoints[0]!.devices.map((d) => d.device)).toEqual([
      'bank1',
      'bank2',
      'pcs1',
      'pv1',
      'ev1',
    ]);
  });
});
