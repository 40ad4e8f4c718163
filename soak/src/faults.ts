import { sleep } from '@gridstream/testkit';
import { KAFKA_NODES, type SoakInfra } from './infra.js';
import type { SoakProfile } from './profile.js';
import { type Instance, type SoakStack, TOPICS } from './stack.js';

export interface TimelineEntry {
  /** Seconds since the soak started publishing. */
  at: number;
  fault: string;
  detail: string;
}

/**
 * The fault schedule: every fault the soak promises, one after another with `faultGapMs` between them,
 * while the gateway keeps publishing. Kills are SIGKILL (no shutdown code runs); a killed service is
 * started again at once (a supervisor would), a killed broker after `brokerDownMs`.
 */
export class FaultRunner {
  readonly timeline: TimelineEntry[] = [];
  private readonly t0 = Date.now();

  constructor(
    private readonly infra: SoakInfra,
    private readonly stack: SoakStack,
    private readonly profile: SoakProfile,
    private readonly log: (line: string) => void,
  ) {}

  private note(fault: string, detail: string): void {
    const entry = { at: Math.round((Date.now() - this.t0) / 1000), fault, detail };
    this.timeline.push(entry);
    this.log(`[${String(entry.at).padStart(5)} s] ${fault}: ${detail}`);
  }

  private async killAndRestart(...instances: Instance[]): Promise<void> {
    await Promise.all(instances.map((i) => this.stack.get(i).kill('SIGKILL')));
    this.note('kill -9', instances.join(' + '));
    await Promise.all(instances.map((i) => this.stack.get(i).restart()));
  }

  private gap(): Promise<void> {
    return sleep(this.profile.faultGapMs);
  }

  async run(): Promise<void> {
    const p = this.profile;
    await sleep(p.faultGapMs * 2);
    // Every service, one at a time, then two at once.
    const singles: Instance[] = [
      'parser-1',
      'influx-writer-1',
      'archiver-1',
      'bridge',
      'modbus-collector',
      'opcua-collector',
      'mqtt-collector',
      'parser-2',
      'influx-writer-2',
      'archiver-2',
    ];
    for (const instance of singles) {
      await this.killAndRestart(instance);
      await this.gap();
    }
    await this.killAndRestart('parser-1', 'influx-writer-2');
    await this.gap();
    await this.killAndRestart('archiver-1', 'parser-2');
    await this.gap();

    // The broker leading raw partition 0, then the active controller.
    const leader = await this.infra.leaderOf(TOPICS.raw, 0);
    await this.infra.killBroker(leader);
    this.note('kill -9 broker', `node ${leader}, leader of ${TOPICS.raw}/0, down ${p.brokerDownMs / 1000} s`);
    await sleep(p.brokerDownMs);
    await this.infra.startBroker(leader);
    this.note('broker back', `node ${leader}`);
    await this.gap();
    const controller = await this.infra.controller();
    await this.infra.killBroker(controller);
    this.note(
      'kill -9 controller',
      `node ${controller}, the active controller, down ${p.brokerDownMs / 1000} s`,
    );
    await sleep(p.brokerDownMs);
    await this.infra.startBroker(controller);
    this.note('broker back', `node ${controller}`);
    await this.gap();

    // RabbitMQ restart (the gateway publishes again what was not confirmed; the bridge reconnects).
    await this.infra.restartRabbit();
    this.note('RabbitMQ restarted', 'stop, start, wait');
    await this.gap();

    // Mosquitto restart: its persistence keeps the collector's session and what is queued for it; the
    // devices publish again what the broker did not acknowledge, the collector resumes its session.
    await this.infra.restartMqtt(p.mqttBrokerDownMs);
    this.note(
      'MQTT broker restarted',
      `Mosquitto stopped (SIGTERM, persistence on), down ${p.mqttBrokerDownMs / 1000} s, started`,
    );
    await this.gap();

    // InfluxDB: refusing, then hung past the session timeout.
    await this.infra.stopInflux();
    this.note('InfluxDB refusing', `stopped for ${p.refuseMs / 1000} s`);
    await sleep(p.refuseMs);
    await this.infra.startInflux();
    this.note('InfluxDB back', 'started');
    await this.gap();
    await this.infra.signalInflux('SIGSTOP');
    this.note(
      'InfluxDB hung',
      `SIGSTOP for ${p.hangMs / 1000} s (session timeout ${p.sessionTimeoutMs / 1000} s)`,
    );
    await sleep(p.hangMs);
    await this.infra.signalInflux('SIGCONT');
    this.note('InfluxDB back', 'SIGCONT');
    await this.gap();

    // S3: refusing (the forwarder closes), then hung (moto stopped with SIGSTOP) past the session timeout.
    await this.infra.refuseS3();
    this.note('S3 refusing', `connections refused for ${p.refuseMs / 1000} s`);
    await sleep(p.refuseMs);
    await this.infra.acceptS3();
    this.note('S3 back', 'accepting');
    await this.gap();
    await this.infra.signalMoto('SIGSTOP');
    this.note('S3 hung', `SIGSTOP for ${p.hangMs / 1000} s (session timeout ${p.sessionTimeoutMs / 1000} s)`);
    await sleep(p.hangMs);
    await this.infra.signalMoto('SIGCONT');
    this.note('S3 back', 'SIGCONT');
    await this.gap();

    // Every broker down: the collectors spool, the bridge leaves messages in RabbitMQ; each collector is
    // killed in the middle of it and must still deliver what it had spooled.
    for (let node = 1; node <= KAFKA_NODES; node++) await this.infra.killBroker(node);
    this.note('all brokers down', `kill -9 of all ${KAFKA_NODES} for ${p.allBrokersDownMs / 1000} s`);
    await sleep(p.allBrokersDownMs / 4);
    await this.killAndRestart('modbus-collector');
    await sleep(p.allBrokersDownMs / 4);
    await this.killAndRestart('opcua-collector');
    await sleep(p.allBrokersDownMs / 4);
    await this.killAndRestart('mqtt-collector');
    await sleep(p.allBrokersDownMs / 4);
    for (let node = 1; node <= KAFKA_NODES; node++) await this.infra.startBroker(node);
    this.note('brokers back', `all ${KAFKA_NODES}`);
  }
}
