import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMqttConfig } from './mqtt-config.js';

const dir = mkdtempSync(join(tmpdir(), 'gs-mqtt-config-'));
const parse = (raw: unknown, env: Record<string, string> = {}) =>
  parseMqttConfig(raw, { path: 'brokers.yaml', env, baseDir: dir });

const json = {
  topic: 'site/+/meter/+',
  format: 'json',
  site: '{1}',
  equipment: 'meter',
  device: '{3}',
  fields: { p: 'P' },
};

describe('the broker file', () => {
  it('fills the defaults: MQTT 5, QoS 1, a fixed client id, a week of session', () => {
    const { config, problems } = parse({
      brokers: [{ url: 'mqtt://broker.local:1883', subscriptions: [json, { format: 'sparkplug' }] }],
    });
    expect(problems).toEqual([]);
    const b = config!.brokers[0]!;
    expect(b).toMatchObject({
      name: 'broker.local_1883',
      url: 'mqtt://broker.local:1883',
      protocol: '5',
      clientId: 'gridstream-mqtt-broker.local_1883',
      sessionExpirySeconds: 604_800,
    });
    expect(b.subscriptions.map((s) => [s.kind, s.filter, s.qos])).toEqual([
      ['json', 'site/+/meter/+', 1],
      ['sparkplug', 'spBv1.0/#', 1],
    ]);
  });

  it('lists every problem by where it is', () => {
    const { config, problems } = parse({
      brokers: [
        {
          name: 'a',
          url: 'http://x',
          protocol: '4',
          subscriptions: [{ ...json, qos: 2, unknownKey: 1 }],
        },
        {
          name: 'b',
          url: 'mqtt://h',
          subscriptions: [
            { ...json, topic: 'site/#/x' },
            { ...json, site: '{7}' },
            { ...json, equipment: 'Meter Box' },
            { ...json, fields: {}, time: { path: 'ts', zone: 'Mars/Olympus' } },
            { format: 'sparkplug', device: '{topic}' },
            { format: 'csv' },
          ],
        },
      ],
    });
    expect(config).toBeUndefined();
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^brokers\[0\]\.url: must be mqtt:\/\/host/),
        expect.stringMatching(/^brokers\[0\]\.protocol: must be "3\.1\.1" or "5"/),
        expect.stringMatching(/^brokers\[0\]\.subscriptions\[0\]\.qos: must be 0 or 1/),
        expect.stringMatching(/^brokers\[0\]\.subscriptions\[0\]: Unrecognized key: "unknownKey"/),
        expect.stringMatching(/^brokers\[1\]\.subscriptions\[5\]\.format: must be json or sparkplug$/),
      ]),
    );
    // The second broker's semantic problems are listed once its shape is right.
    const second = parse({
      brokers: [
        {
          url: 'mqtt://h',
          subscriptions: [
            { ...json, topic: 'site/#/x' },
            { ...json, topic: 'a/+/b/+', site: '{7}' },
            { ...json, topic: 'c/+/d/+', equipment: 'Meter Box' },
            { ...json, topic: 'e/+/f/+', fields: {}, time: { path: 'ts', zone: 'Mars/Olympus' } },
            { format: 'sparkplug', device: '{topic}' },
          ],
        },
      ],
    }).problems;
    expect(second).toEqual([
      'brokers[0].subscriptions[0].topic: "#" must be a whole level and the last one',
      `brokers[0].subscriptions[1].site: {7}: the subscription's topic has 4 level(s) before any "#" (counted from 0)`,
      'brokers[0].subscriptions[2].equipment: "Meter Box" must be lower snake case',
      'brokers[0].subscriptions[3].time.zone: "Mars/Olympus" is not a time zone',
      'brokers[0].subscriptions[3]: map at least one reading under fields or flags',
      'brokers[0].subscriptions[4].device: {topic} is not a placeholder; use {group}, {node}, {device}',
    ]);
  });

  it('reads the password from the variable, its _FILE, or a file, never from the config', () => {
    const secret = join(dir, 'secret');
    writeFileSync(secret, 's3cret\n');
    const broker = { url: 'mqtts://h:8883', username: 'gs', subscriptions: [json] };
    expect(
      parse({ brokers: [{ ...broker, passwordEnv: 'MQTT_PW' }] }, { MQTT_PW: 'p1' }).config!.brokers[0]!
        .password,
    ).toBe('p1');
    expect(
      parse({ brokers: [{ ...broker, passwordEnv: 'MQTT_PW' }] }, { MQTT_PW_FILE: secret }).config!
        .brokers[0]!.password,
    ).toBe('s3cret');
    expect(parse({ brokers: [{ ...broker, passwordFile: 'secret' }] }).config!.brokers[0]!.password).toBe(
      's3cret',
    );
    expect(parse({ brokers: [{ ...broker, passwordEnv: 'MQTT_PW' }] }).problems).toEqual([
      'brokers[0].passwordEnv: MQTT_PW is not set (nor MQTT_PW_FILE)',
    ]);
    expect(parse({ brokers: [{ ...broker, password: 'inline' }] }).problems).toEqual([
      'brokers[0].password: passwords do not belong in the config file; use passwordEnv or passwordFile',
    ]);
  });

  it('refuses a password over plain MQTT unless told the network is trusted', () => {
    const broker = { url: 'mqtt://h', username: 'gs', passwordEnv: 'PW', subscriptions: [json] };
    expect(parse({ brokers: [broker] }, { PW: 'x' }).problems[0]).toMatch(
      /^brokers\[0\]\.url: a password over mqtt:\/\/ travels in clear text/,
    );
    expect(parse({ brokers: [{ ...broker, allowPasswordWithoutTls: true }] }, { PW: 'x' }).problems).toEqual(
      [],
    );
  });

  it('reads the TLS files relative to the config file and names the one it cannot read', () => {
    writeFileSync(join(dir, 'ca.pem'), 'CA');
    const ok = parse({ brokers: [{ url: 'mqtts://h', tls: { caFile: 'ca.pem' }, subscriptions: [json] }] });
    expect(ok.config!.brokers[0]!.tls).toEqual({ rejectUnauthorized: true, ca: Buffer.from('CA') });
    const bad = parse({
      brokers: [
        {
          url: 'mqtts://h',
          tls: { caFile: 'ca.pem', certFile: 'none.pem', keyFile: 'none.key' },
          subscriptions: [json],
        },
      ],
    });
    expect(bad.problems).toEqual([
      expect.stringMatching(/^brokers\[0\]\.tls\.certFile: ENOENT/),
      expect.stringMatching(/^brokers\[0\]\.tls\.keyFile: ENOENT/),
    ]);
    expect(
      parse({ brokers: [{ url: 'mqtt://h', tls: { caFile: 'ca.pem' }, subscriptions: [json] }] }).problems,
    ).toEqual(['brokers[0].tls: TLS settings need an mqtts:// URL']);
  });

  it('warns of client ids MQTT 3.1.1 brokers may refuse and of one session taken twice', () => {
    expect(
      parse({
        brokers: [
          { name: 'a-very-long-broker-name', url: 'mqtt://h', protocol: '3.1.1', subscriptions: [json] },
        ],
      }).problems[0],
    ).toMatch(/longer than 23 characters/);
    expect(
      parse({
        brokers: [
          { name: 'a', url: 'mqtt://h', clientId: 'gs', subscriptions: [json] },
          { name: 'b', url: 'mqtt://h', clientId: 'gs', subscriptions: [json] },
        ],
      }).problems,
    ).toEqual([
      'brokers[1].clientId: "gs" is used twice for one broker; each connection takes the other\'s session',
    ]);
  });
});
