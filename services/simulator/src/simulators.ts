import type { RunningService, ServiceContext } from '@gridstream/runtime';
import type { SimulatorConfig } from './config.js';
import { modbusScenario } from './modbus-scenario.js';
import { startModbusSimulator } from './modbus-server.js';
import { startMqttSimulator } from './mqtt-publisher.js';
import { startOpcuaSimulator } from './opcua-server.js';
import { startSerialMeter } from './serial-meter.js';
import { type SimulatorOptions, startSimulator } from './simulator-service.js';

/**
 * Every simulator the configuration asks for, in one process: the microgrid gateway (AMQP), the ESS
 * Modbus TCP server, the microgrid OPC UA server, the MQTT devices (JSON meters and a Sparkplug B edge
 * node) and water meters printing lines on a serial line. `make simulation` turns the first three on;
 * `make demo` all five (SIM_MQTT_URL to its broker, SIM_SERIAL_PATH to its pty pair), so the demo shows
 * data from each kind of source.
 */
export async function startSimulators(
  ctx: ServiceContext<SimulatorConfig>,
  options: SimulatorOptions = {},
): Promise<RunningService> {
  const { config, logger } = ctx;
  const running: RunningService[] = [];
  try {
    if (config.SIM_MODBUS_PORT !== undefined) {
      const modbus = await startModbusSimulator({
        port: config.SIM_MODBUS_PORT,
        host: config.SIM_MODBUS_HOST,
        profile: config.SIM_MODBUS_PROFILE,
        seed: config.SIM_SEED,
        scenario: modbusScenario(config.SIM_MODBUS_SCENARIO, {
          periodMs: config.SIM_MODBUS_SCENARIO_PERIOD_MS,
          rack: config.SIM_MODBUS_SCENARIO_RACK,
          cycles: config.SIM_MODBUS_SCENARIO_CYCLES,
        }),
      });
      logger.info(
        {
          host: modbus.host,
          port: modbus.port,
          unitId: modbus.unitId,
          scenario: config.SIM_MODBUS_SCENARIO,
        },
        'Modbus TCP simulator serving',
      );
      running.push({ stop: () => modbus.stop() });
    }
    if (config.SIM_OPCUA_PORT !== undefined) {
      const opcua = await startOpcuaSimulator({
        port: config.SIM_OPCUA_PORT,
        host: config.SIM_OPCUA_HOST,
        seed: config.SIM_SEED,
      });
      logger.info({ endpoint: opcua.endpointUrl, points: opcua.points.length }, 'OPC UA simulator serving');
      running.push({ stop: () => opcua.stop() });
    }
    if (config.SIM_MQTT_URL !== undefined) {
      const mqtt = await startMqttSimulator({
        url: config.SIM_MQTT_URL,
        intervalMs: config.SIM_MQTT_INTERVAL_MS,
        site: config.SIM_MQTT_SITE,
        seed: config.SIM_SEED,
        logger: logger.child({ component: 'mqtt' }),
      });
      running.push(mqtt);
    }
    if (config.SIM_SERIAL_PATH !== undefined) {
      const serial = await startSerialMeter({
        path: config.SIM_SERIAL_PATH,
        intervalMs: config.SIM_SERIAL_INTERVAL_MS,
        meters: ['JM1', 'JM2'],
        timeZone: config.SIM_TIMEZONE,
        seed: config.SIM_SEED,
        logger: logger.child({ component: 'serial' }),
      });
      running.push(serial);
    }
    if (config.SIM_AMQP) running.push(await startSimulator(ctx, options));
  } catch (error) {
    for (const r of running.reverse()) await r.stop().catch(() => undefined);
    throw error;
  }
  return {
    async stop() {
      for (const r of running.reverse()) await r.stop();
    },
  };
}
