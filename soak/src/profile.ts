/**
 * How long and how hard the soak runs. `full` is `make soak` (the figures in docs/reliability.md); `short`
 * is the variant inside `make test`: every fault once, shorter, on fewer messages.
 */
export interface SoakProfile {
  name: 'full' | 'short';
  /** Gateway messages to publish (each confirmed one is expected exactly once everywhere). */
  messages: number;
  /** Publish rate, messages per second, over `sites` gateway sites. */
  rate: number;
  sites: number;
  /** Consumer group session of every service (faults that hang a sink last longer than this). */
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** Pause between two scheduled faults. */
  faultGapMs: number;
  /** A killed broker stays down this long. */
  brokerDownMs: number;
  /** Every broker down at once for this long (collectors must spool). */
  allBrokersDownMs: number;
  /** The MQTT broker (Mosquitto) stays down this long when restarted (devices and collector reconnect). */
  mqttBrokerDownMs: number;
  /** The simulator's MQTT devices publish every this many ms: two JSON meters and a Sparkplug B DDATA. */
  mqttIntervalMs: number;
  /** InfluxDB and S3: refusing connections for this long, then hung (SIGSTOP) for `hangMs`. */
  refuseMs: number;
  hangMs: number;
  /** The archiver's file age: small enough that files are closed and uploaded during every fault. */
  archiveFileAgeMs: number;
  /** Longest the pipeline may take to drain after the last publish before the verdict is taken anyway. */
  drainTimeoutMs: number;
}

export const PROFILES: Record<'full' | 'short', SoakProfile> = {
  full: {
    name: 'full',
    messages: 120_000,
    rate: 100,
    sites: 20,
    sessionTimeoutMs: 30_000,
    heartbeatIntervalMs: 3_000,
    faultGapMs: 25_000,
    brokerDownMs: 30_000,
    allBrokersDownMs: 5 * 60_000,
    mqttBrokerDownMs: 30_000,
    mqttIntervalMs: 200,
    refuseMs: 60_000,
    hangMs: 75_000,
    archiveFileAgeMs: 20_000,
    drainTimeoutMs: 15 * 60_000,
  },
  short: {
    name: 'short',
    messages: 10_800,
    rate: 30,
    sites: 6,
    sessionTimeoutMs: 10_000,
    heartbeatIntervalMs: 1_000,
    faultGapMs: 8_000,
    brokerDownMs: 12_000,
    allBrokersDownMs: 45_000,
    mqttBrokerDownMs: 5_000,
    mqttIntervalMs: 250,
    refuseMs: 15_000,
    hangMs: 18_000,
    archiveFileAgeMs: 8_000,
    drainTimeoutMs: 6 * 60_000,
  },
};
