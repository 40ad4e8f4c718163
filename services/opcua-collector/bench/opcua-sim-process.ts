// The OPC UA simulator in its own process for the bench, so the collector's CPU and memory are
// measured apart from the server's. Run by opcua-items.ts; needs `npx tsc -b` first (imports dist).
// Usage: node opcua-sim-process.ts <port> <devices> <pointsPerDevice> <updateIntervalMs> <pkiDir>
import { startOpcuaSimulator } from '../../simulator/dist/opcua-server.js';

const [port, devices, points, intervalMs] = process.argv.slice(2, 6).map(Number);
const pkiDir = process.argv[6];
const sim = await startOpcuaSimulator({
  port,
  sites: ['Bench'],
  batteries: 0,
  benchDevices: devices,
  pointsPerDevice: points,
  updateIntervalMs: intervalMs,
  pkiDir,
});
process.stdout.write(`READY ${sim.endpointUrl} ${sim.points.length}\n`);
const stop = async () => {
  await sim.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
