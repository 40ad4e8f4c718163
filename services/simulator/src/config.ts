import { amqpEnvShape, checkAmqpEnv } from '@gridstream/amqp';
import { envBoolean, envInt } from '@gridstream/config';
import { runtimeEnvShape } from '@gridstream/runtime';
import { z } from 'zod';
import { REFERENCE_SITE_SHAPE } from './microgrid-generator.js';
import { MODBUS_SCENARIOS } from './modbus-scenario.js';
import { isValidTimeZone } from './zoned-time.js';

/** A positive decimal (`0.5`, `20`, `2000`): a rate below one message a second is a normal gateway. */
const envRate = (fallback: number) =>
  z
    .string()
    .regex(/^\d+(\.\d+)?$/, 'must be a positive number')
    .transform(Number)
    .pipe(z.number().positive('must be above 0').max(100_000))
    .prefault(String(fallback));

const deviceCount = (fallback: number, min = 0) => envInt(fallback, { min, max: 999 });

export const simulatorConfigSchema = z
  .object({
    ...runtimeEnvShape(9108),
    ...amqpEnvShape,
    /** Messages per second over all sites together. */
    SIM_RATE: envRate(20),
    /**
     * Number of sites; their ids are 000001, 000002, ... 20 sites at the default 20 messages/s is one
     * message per site per second: with the gateway's whole-second timestamps, more per site would make
     * readings of the same second overwrite each other downstream.
     */
    SIM_SITES: envInt(20, { min: 1, max: 99_999 }),
    /** Zone of the gateways' wall clocks (the header timestamp carries no offset). */
    SIM_TIMEZONE: z.string().default('Asia/Seoul'),
    /** Send this many messages in total, wait for their confirms, and exit. Unset: run until stopped. */
    SIM_MESSAGES: envInt(undefined, { min: 1 }).optional(),
    SIM_SEED: envInt(1, { min: 0, max: 2 ** 32 - 1 }),
    /** `s` is the gateway's own format; `ms` keeps readings distinct when a site sends several per second. */
    SIM_TIMESTAMP_PRECISION: z.enum(['s', 'ms']).default('s'),
    /** Unconfirmed publishes allowed; beyond it the simulator waits (a slow or unreachable broker). */
    SIM_MAX_IN_FLIGHT: envInt(1_000, { min: 1, max: 100_000 }),
    /** Declare exchange + queue + binding (so nothing is dropped before the bridge runs), or only the exchange. */
    SIM_DECLARE: z.enum(['topology', 'exchange', 'none']).default('topology'),
    SIM_BATTERIES: deviceCount(REFERENCE_SITE_SHAPE.batteries),
    SIM_RACKS_PER_BATTERY: deviceCount(REFERENCE_SITE_SHAPE.racksPerBattery, 1),
    SIM_CONVERTERS: deviceCount(REFERENCE_SITE_SHAPE.converters),
    SIM_INVERTERS: deviceCount(REFERENCE_SITE_SHAPE.inverters),
    SIM_TRANSFORMERS: deviceCount(REFERENCE_SITE_SHAPE.transformers),
    SIM_PVS: deviceCount(REFERENCE_SITE_SHAPE.pvs),
    SIM_EV_CHARGERS: deviceCount(REFERENCE_SITE_SHAPE.evChargers),
    /** Publish microgrid gateway messages to RabbitMQ (the default simulator). */
    SIM_AMQP: envBoolean(true),
    /** Serve the ESS (or SIM_MODBUS_PROFILE's) registers as a Modbus TCP server on this port; unset: off. */
    SIM_MODBUS_PORT: envInt(undefined, { min: 1, max: 65_535 }).optional(),
    SIM_MODBUS_HOST: z.string().default('127.0.0.1'),
    SIM_MODBUS_PROFILE: z.string().default('sample/profiles/ess-sionyu.yaml'),
    /**
     * A scripted episode on the Modbus simulator (docs/operations.md): `over-temperature` heats one rack
     * of the ESS past the 50 °C warning and the 55 °C fault and back, every 10 periods.
     */
    SIM_MODBUS_SCENARIO: z.enum(MODBUS_SCENARIOS).default('none'),
    /** One step of the scenario's timeline; tests make it short. */
    SIM_MODBUS_SCENARIO_PERIOD_MS: envInt(60_000, { min: 100, max: 86_400_000 }),
    /** The rack the scenario drives. */
    SIM_MODBUS_SCENARIO_RACK: z.string().min(1).default('1'),
    /** Cycles to play before the rack stays normal; 0: repeat forever. */
    SIM_MODBUS_SCENARIO_CYCLES: envInt(0, { min: 0, max: 1_000_000 }),
    /** Serve a microgrid OPC UA address space on this port; unset: off. */
    SIM_OPCUA_PORT: envInt(undefined, { min: 1, max: 65_535 }).optional(),
    SIM_OPCUA_HOST: z.string().default('127.0.0.1'),
    /**
     * Publish MQTT devices to this broker (`mqtt://127.0.0.1:1883`): two JSON meters and a Sparkplug B edge
     * node, for the MQTT collector (sample/mqtt/collector-local.yaml). Unset: off.
     */
    SIM_MQTT_URL: z
      .string()
      .regex(/^mqtts?:\/\/\S+$/, 'must be mqtt://host[:port]')
      .optional(),
    /** One JSON reading per meter and one Sparkplug DDATA every this many ms. */
    SIM_MQTT_INTERVAL_MS: envInt(1_000, { min: 100, max: 3_600_000 }),
    /** The site level of the JSON meters' topics (`site/<site>/meter/m1`). */
    SIM_MQTT_SITE: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . -')
      .default('mqtt01'),
    /**
     * Print the lines of two water meters (JM1, JM2 on one RS485 bus) to this serial device: one end of a
     * socat pty pair (`make demo`: deploy/local/serial-line.sh) or a real port, for the serial collector
     * (sample/serial/collector-demo.yaml reads the other end). Unset: off.
     */
    SIM_SERIAL_PATH: z.string().min(1).optional(),
    /**
     * One line per meter every this many ms. At least a second: the lines carry whole-second times, and two
     * lines of one meter in the same second would overwrite each other downstream.
     */
    SIM_SERIAL_INTERVAL_MS: envInt(1_000, { min: 1_000, max: 3_600_000 }),
  })
  .superRefine((cfg, ctx) => {
    checkAmqpEnv(cfg, ctx);
    if (!isValidTimeZone(cfg.SIM_TIMEZONE)) {
      ctx.addIssue({
        code: 'custom',
        path: ['SIM_TIMEZONE'],
        message: `"${cfg.SIM_TIMEZONE}" is not an IANA time zone (e.g. Asia/Seoul)`,
      });
    }
  });

export type SimulatorConfig = z.infer<typeof simulatorConfigSchema>;

/** Site ids as the reference gateway writes them: six digits, zero-padded. */
export function siteIds(count: number): string[] {
  return Array.from({ length: count }, (_, i) => String(i + 1).padStart(6, '0'));
}
