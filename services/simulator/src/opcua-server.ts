import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  DataType,
  MessageSecurityMode,
  makeEUInformation,
  OPCUACertificateManager,
  OPCUAServer,
  SecurityPolicy,
  StatusCode,
  StatusCodes,
  type UAObject,
  type UAVariable,
  Variant,
} from 'node-opcua';
import { type DeviceSpec, DeviceState, microgridDevices, type PointSpec } from './opcua-model.js';

export type OpcuaSecurityModeName = 'None' | 'Sign' | 'SignAndEncrypt';

export interface OpcuaSimulatorOptions {
  port: number;
  /** Interface to listen on and the host name advertised in the endpoints. Default 127.0.0.1. */
  host?: string;
  /** Site folders under Objects/Microgrid. Default ['Site01']. */
  sites?: string[];
  batteries?: number;
  /** Scalable mode for the bench: N generic devices per site (Bench00001…) with M points each. */
  benchDevices?: number;
  pointsPerDevice?: number;
  /** How often every value moves (and gets a new source timestamp). Default 500 ms. */
  updateIntervalMs?: number;
  /** Default all three. Secured modes are offered with Basic256Sha256, Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss. */
  securityModes?: OpcuaSecurityModeName[];
  /** Username/password accounts. With any given, anonymous logins are refused unless allowAnonymous. */
  users?: { username: string; password: string }[];
  allowAnonymous?: boolean;
  /**
   * The server's PKI (its own certificate and the clients it trusts). Persistent by default so that a
   * restarted simulator presents the same certificate, like a real server does.
   */
  pkiDir?: string;
  /**
   * Trust every client application certificate and user certificate (a simulator's convenience; real
   * servers must not). Default true.
   */
  autoTrustClients?: boolean;
  /**
   * Numeric NodeIds starting here instead of readable string NodeIds. Two instances with different
   * bases expose the same browse paths under different NodeIds: what a server whose ids are assigned at
   * start-up does, and the reason a collector must re-resolve browse paths after it reconnects.
   * Must be >= 100000.
   */
  numericNodeIdBase?: number;
  seed?: number;
}

export interface SetPointOptions {
  /** A StatusCodes name, e.g. 'BadSensorFailure' or 'UncertainLastUsableValue'. Default 'Good'. */
  status?: string;
  sourceTimestamp?: Date;
}

export interface OpcuaSimulator {
  readonly endpointUrl: string;
  readonly namespaceUri: string;
  /** `Site/Device/Variable` for every variable, in address-space order. */
  readonly points: string[];
  readonly devices: { site: string; device: DeviceSpec }[];
  /** NodeId (string form, `ns=…;s=…` or `ns=…;i=…`) of a `Site/Device/Variable` path. */
  nodeIdOf(path: string): string;
  /** Writes one value as the device would, with a status and source timestamp. */
  set(path: string, value: number | boolean | null, options?: SetPointOptions): void;
  /** Stops / restarts the periodic updates (tests that need the values to hold still). */
  pause(): void;
  resume(): void;
  sessionCount(): number;
  stop(): Promise<void>;
}

export const SIMULATOR_NAMESPACE_URI = 'urn:gridstream:microgrid';

const SECURITY_MODES: Record<OpcuaSecurityModeName, MessageSecurityMode> = {
  None: MessageSecurityMode.None,
  Sign: MessageSecurityMode.Sign,
  SignAndEncrypt: MessageSecurityMode.SignAndEncrypt,
};

/**
 * An OPC UA server with a microgrid address space: Objects/Microgrid/<Site>/<Device>/<Variable>, values
 * that move every `updateIntervalMs` with the tick time as their source timestamp (all variables of a
 * device share it, as values read in one scan of a real controller do).
 */
export async function startOpcuaSimulator(options: OpcuaSimulatorOptions): Promise<OpcuaSimulator> {
  const host = options.host ?? '127.0.0.1';
  const sites = options.sites ?? ['Site01'];
  const modeNames = options.securityModes ?? ['None', 'Sign', 'SignAndEncrypt'];
  const users = options.users ?? [];
  const pkiDir = resolve(options.pkiDir ?? join('.local', 'opcua-sim-pki'));
  mkdirSync(pkiDir, { recursive: true });

  const serverCertificateManager = new OPCUACertificateManager({
    rootFolder: pkiDir,
    automaticallyAcceptUnknownCertificate: options.autoTrustClients ?? true,
    name: 'PKI',
  });
  await serverCertificateManager.initialize();
  // Certificates that clients log in with (X509 user identity) are checked against their own trust list.
  const userCertificateManager = new OPCUACertificateManager({
    rootFolder: join(pkiDir, 'user-pki'),
    automaticallyAcceptUnknownCertificate: options.autoTrustClients ?? true,
    name: 'UserPKI',
  });
  await userCertificateManager.initialize();

  const securityPolicies = [
    SecurityPolicy.Basic256Sha256,
    SecurityPolicy.Aes128_Sha256_RsaOaep,
    SecurityPolicy.Aes256_Sha256_RsaPss,
  ];
  if (modeNames.includes('None')) securityPolicies.unshift(SecurityPolicy.None);

  const server = new OPCUAServer({
    port: options.port,
    host,
    hostname: host,
    securityModes: modeNames.map((m) => SECURITY_MODES[m]),
    securityPolicies,
    allowAnonymous: options.allowAnonymous ?? users.length === 0,
    serverCertificateManager,
    userCertificateManager,
    userManager: {
      isValidUser: (username: string, password: string) =>
        users.some((u) => u.username === username && u.password === password),
    },
    buildInfo: { productName: 'gridstream OPC UA simulator', manufacturerName: 'gridstream' },
    serverInfo: {
      applicationUri: 'urn:gridstream:opcua-simulator',
      productUri: 'urn:gridstream:opcua-simulator',
    },
    serverCapabilities: { maxSessions: 100 },
    maxConnectionsPerEndpoint: 100,
  });
  await server.initialize();

  const addressSpace = server.engine.addressSpace!;
  const namespace = addressSpace.registerNamespace(SIMULATOR_NAMESPACE_URI);
  const ns = namespace.index;
  // node-opcua numbers the nodes it adds itself (EURange, EngineeringUnits properties) from 1000 upwards.
  if (options.numericNodeIdBase !== undefined && options.numericNodeIdBase < 100_000)
    throw new Error(
      'numericNodeIdBase must be >= 100000 (lower ids collide with auto-numbered property nodes)',
    );
  let nextNumeric = options.numericNodeIdBase;
  const nodeIdFor = (path: string): string =>
    nextNumeric === undefined ? `ns=${ns};s=${path}` : `ns=${ns};i=${nextNumeric++}`;

  const microgrid = namespace.addObject({
    organizedBy: addressSpace.rootFolder.objects,
    browseName: 'Microgrid',
    nodeId: nodeIdFor('Microgrid'),
  });

  const devices = microgridDevices(options);
  const seed = options.seed ?? 42;
  const variables = new Map<string, { variable: UAVariable; spec: PointSpec }>();
  const running: { state: DeviceState; variables: UAVariable[] }[] = [];
  const points: string[] = [];
  const startedAt = new Date();

  for (const site of sites) {
    const siteNode = namespace.addObject({
      componentOf: microgrid,
      browseName: site,
      nodeId: nodeIdFor(`Microgrid/${site}`),
    });
    for (const device of devices) {
      const devicePath = `${site}/${device.name}`;
      const deviceNode = namespace.addObject({
        componentOf: siteNode,
        browseName: device.name,
        nodeId: nodeIdFor(`Microgrid/${devicePath}`),
      });
      const state = new DeviceState(device, site, seed);
      const deviceVariables = device.points.map((point, i) => {
        const path = `${devicePath}/${point.name}`;
        const variable = addPoint(
          namespace,
          deviceNode,
          point,
          nodeIdFor(`Microgrid/${path}`),
          device.equipment === 'bench',
        );
        variable.setValueFromSource(variantOf(point, state.values[i]!), StatusCodes.Good, startedAt);
        variables.set(path, { variable, spec: point });
        points.push(path);
        return variable;
      });
      running.push({ state, variables: deviceVariables });
    }
  }

  await server.start();

  const tick = () => {
    const now = new Date();
    for (const { state, variables: vars } of running) {
      state.tick();
      const specs = state.spec.points;
      for (let i = 0; i < vars.length; i++) {
        vars[i]!.setValueFromSource(variantOf(specs[i]!, state.values[i]!), StatusCodes.Good, now);
      }
    }
  };
  const intervalMs = options.updateIntervalMs ?? 500;
  let timer: NodeJS.Timeout | undefined = setInterval(tick, intervalMs);

  return {
    endpointUrl: `opc.tcp://${host}:${options.port}`,
    namespaceUri: SIMULATOR_NAMESPACE_URI,
    points,
    devices: sites.flatMap((site) => devices.map((device) => ({ site, device }))),
    nodeIdOf(path) {
      const entry = variables.get(path);
      if (!entry) throw new Error(`no such simulator point: ${path}`);
      return entry.variable.nodeId.toString();
    },
    set(path, value, setOptions = {}) {
      const entry = variables.get(path);
      if (!entry) throw new Error(`no such simulator point: ${path}`);
      const status = statusCodeNamed(setOptions.status ?? 'Good');
      const variant =
        value === null ? new Variant({ dataType: DataType.Null }) : variantOf(entry.spec, value);
      entry.variable.setValueFromSource(variant, status, setOptions.sourceTimestamp ?? new Date());
    },
    pause() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
    resume() {
      if (!timer) timer = setInterval(tick, intervalMs);
    },
    sessionCount: () => server.engine.currentSessionCount,
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await server.shutdown(0);
      await serverCertificateManager.dispose();
    },
  };
}

type Namespace = ReturnType<NonNullable<OPCUAServer['engine']['addressSpace']>['registerNamespace']>;

function addPoint(
  namespace: Namespace,
  parent: UAObject,
  point: PointSpec,
  nodeId: string,
  plain: boolean,
): UAVariable {
  if (point.kind === 'boolean') {
    return namespace.addVariable({
      componentOf: parent,
      browseName: point.name,
      nodeId,
      dataType: 'Boolean',
    });
  }
  // Bench variables are plain: 10,000 AnalogItems with their EURange/EngineeringUnits properties would
  // triple the simulator's memory without changing what the collector does.
  if (plain || !point.range) {
    return namespace.addVariable({ componentOf: parent, browseName: point.name, nodeId, dataType: 'Double' });
  }
  return namespace.addAnalogDataItem({
    componentOf: parent,
    browseName: point.name,
    nodeId,
    dataType: 'Double',
    engineeringUnitsRange: point.range,
    engineeringUnits: makeEUInformation(point.unit ?? '', point.unit ?? '', point.unit ?? ''),
  });
}

function variantOf(point: PointSpec, value: number | boolean): Variant {
  return point.kind === 'boolean'
    ? new Variant({ dataType: DataType.Boolean, value: Boolean(value) })
    : new Variant({ dataType: DataType.Double, value: Number(value) });
}

function statusCodeNamed(name: string): StatusCode {
  const code = (StatusCodes as unknown as Record<string, StatusCode | undefined>)[name];
  if (!(code instanceof StatusCode)) throw new Error(`unknown OPC UA status code name: ${name}`);
  return code;
}
