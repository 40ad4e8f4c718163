import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { archiverConfigSchema } from '../services/archiver/src/config.js';
import { bridgeConfigSchema } from '../services/bridge/src/config.js';
import { consoleConfigSchema } from '../services/console/src/config.js';
import { forecasterConfigSchema } from '../services/forecaster/src/config.js';
import { writerConfigSchema } from '../services/influx-writer/src/config.js';
import { modbusCollectorConfigSchema } from '../services/modbus-collector/src/config.js';
import { makeMqttCollectorConfigSchema } from '../services/mqtt-collector/src/config.js';
import { makeOpcuaCollectorConfigSchema } from '../services/opcua-collector/src/config.js';
import { opentsdbWriterConfigSchema } from '../services/opentsdb-writer/src/config.js';
import { parserConfigSchema } from '../services/parser/src/config.js';
import { serialCollectorConfigSchema } from '../services/serial-collector/src/config.js';
import { simulatorConfigSchema } from '../services/simulator/src/config.js';
import { timescaleWriterConfigSchema } from '../services/timescale-writer/src/config.js';

/** The configuration reference is documentation operators rely on: it must not fall behind the code. */
const reference = readFileSync(join(import.meta.dirname, '..', 'docs', 'configuration.md'), 'utf8');
const schemas = {
  bridge: bridgeConfigSchema,
  parser: parserConfigSchema,
  'influx-writer': writerConfigSchema,
  simulator: simulatorConfigSchema,
  'modbus-collector': modbusCollectorConfigSchema,
  'opcua-collector': makeOpcuaCollectorConfigSchema({}),
  'mqtt-collector': makeMqttCollectorConfigSchema({}),
  'serial-collector': serialCollectorConfigSchema,
  archiver: archiverConfigSchema,
  console: consoleConfigSchema,
  forecaster: forecasterConfigSchema,
  'timescale-writer': timescaleWriterConfigSchema,
  'opentsdb-writer': opentsdbWriterConfigSchema,
};

/** What each service cannot start without, so that its schema yields its defaults to compare. */
const REQUIRED: Record<string, Record<string, string>> = {
  forecaster: { FORECAST_CONFIG: 'series.yaml' },
  'modbus-collector': { MODBUS_CONFIG: 'collector.yaml' },
  // The schema reads the endpoint file it names: the repository's own sample.
  'opcua-collector': {
    OPCUA_CONFIG: join(import.meta.dirname, '..', 'sample', 'opcua', 'collector-local.yaml'),
  },
  // Like the OPC UA collector's, the schema reads the port file it names.
  'serial-collector': {
    SERIAL_CONFIG: join(import.meta.dirname, '..', 'sample', 'serial', 'collector-local.yaml'),
  },
  // The broker file it names is read too: the repository's own sample.
  'mqtt-collector': {
    MQTT_CONFIG: join(import.meta.dirname, '..', 'sample', 'mqtt', 'collector-local.yaml'),
  },
  console: { CONSOLE_PASSWORD: 'a password of 8+' },
};

/** The text of a service's `## <service> (…)` section, '' when it has none. */
function sectionOf(service: string): string {
  const start = reference.indexOf(`\n## ${service} `);
  if (start < 0) return '';
  const end = reference.indexOf('\n## ', start + 1);
  return reference.slice(start, end < 0 ? undefined : end);
}

describe('docs/configuration.md', () => {
  for (const [service, schema] of Object.entries(schemas)) {
    it(`documents every variable of the ${service}, with its default`, () => {
      // A required variable (the forecaster's FORECAST_CONFIG) is given, or no default would be checked.
      const required = REQUIRED[service] ?? {};
      const defaults = schema.safeParse(required).data as Record<string, unknown> | undefined;
      expect(defaults, `${service}: defaults`).toBeDefined();
      for (const name of Object.keys(schema.shape)) {
        // The service's own section first: the sinks share WRITER_* names with different defaults.
        const row = [sectionOf(service), reference]
          .map((text) => text.split('\n').find((line) => line.startsWith(`| \`${name}\` |`)))
          .find((line) => line !== undefined);
        expect(row, `${name} is missing`).toBeDefined();
        // A required variable has no default: what the test gave it is not one to look for.
        const value = name in (REQUIRED[service] ?? {}) ? undefined : defaults?.[name];
        // An empty default (a prefix that means "none") has no backticked form to look for.
        if (
          typeof value === 'number' ||
          typeof value === 'boolean' ||
          (typeof value === 'string' && value !== '')
        ) {
          expect(row, `${name}'s default`).toContain(`\`${String(value)}\``);
        }
      }
    });
  }
});
