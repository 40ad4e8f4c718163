import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@gridstream/testkit';
import { describe, expect, it } from 'vitest';

/**
 * The short soak (`node soak/dist/main.js --profile short`, docs/reliability.md): the whole pipeline on a
 * 3-broker cluster with two replicas of every consumer, every fault once — each service killed, two at once,
 * the partition leader's broker and the active controller killed, every broker down while each collector is
 * killed, RabbitMQ and the MQTT broker restarted, InfluxDB and S3 refusing and then hung past the session
 * timeout — then the exact verdict (the Modbus, OPC UA and MQTT collectors' samples included). `make soak` runs the full one (100,000+ messages, 5 minutes without Kafka).
 */
describe('short soak: every fault once', () => {
  it(
    'loses nothing and duplicates nothing anywhere',
    async () => {
      const child = spawn(
        process.execPath,
        [join(REPO_ROOT, 'soak', 'dist', 'main.js'), '--profile', 'short'],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let output = '';
      child.stdout.on('data', (d: Buffer) => {
        output += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        output += d.toString();
      });
      const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
      let resultText: string;
      try {
        resultText = readFileSync(join(REPO_ROOT, '.local', 'soak', 'short', 'result.json'), 'utf8');
      } catch {
        // The soak stopped before its verdict (a server that would not start…): say what it printed.
        throw new Error(`the soak exited (${code}) without a verdict:\n${output.slice(-4000)}`);
      }
      const result = JSON.parse(resultText) as {
        gateway: { confirmed: number };
        timeline: { fault: string }[];
        verdict: {
          ok: boolean;
          expected: { points: number; rows: number };
          influx: { points: number; mismatches: string[] };
          archive: { rows: number; distinct: number; verifyOk: boolean; mismatches: string[] };
          collectors: { source: string; expectedPoints: number; storedPoints: number }[];
          deadLetters: number;
        };
      };
      const v = result.verdict;
      // Every promised fault happened.
      const faults = new Set(result.timeline.map((t) => t.fault));
      for (const fault of [
        'kill -9',
        'kill -9 broker',
        'kill -9 controller',
        'all brokers down',
        'RabbitMQ restarted',
        'MQTT broker restarted',
        'InfluxDB refusing',
        'InfluxDB hung',
        'S3 refusing',
        'S3 hung',
      ])
        expect(faults, output.slice(-3000)).toContain(fault);
      expect(result.gateway.confirmed).toBeGreaterThanOrEqual(10_000);
      expect({
        influx: v.influx.points,
        influxMismatches: v.influx.mismatches,
        archiveRows: v.archive.rows,
        archiveDistinct: v.archive.distinct,
        archiveMismatches: v.archive.mismatches,
        verify: v.archive.verifyOk,
        deadLetters: v.deadLetters,
      }).toEqual({
        influx: v.expected.points,
        influxMismatches: [],
        archiveRows: v.expected.rows,
        archiveDistinct: v.expected.rows,
        archiveMismatches: [],
        verify: true,
        deadLetters: 0,
      });
      for (const c of v.collectors) {
        expect(c.expectedPoints, c.source).toBeGreaterThan(0);
        expect(c.storedPoints, c.source).toBe(c.expectedPoints);
      }
      expect(v.ok).toBe(true);
      expect(code, output.slice(-3000)).toBe(0);
    },
    40 * 60_000,
  );
});
