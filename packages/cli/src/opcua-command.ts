import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  type ApplicationPki,
  certificateInfo,
  closeQuietly,
  createClient,
  DEFAULT_PKI_DIR,
  describeOpcuaError,
  openApplicationPki,
  resolveNodeRefs,
  routeNodeOpcuaLogs,
  SECURITY_MODE_NAMES,
  type SecurityModeName,
  SecurityModeSchema,
  type SecurityPolicyName,
  SecurityPolicySchema,
  type UserIdentity,
  userIdentityInfo,
  withTimeout,
} from '@gridstream/opcua';
import {
  AttributeIds,
  BrowseDirection,
  browseAll,
  type ClientSession,
  DataType,
  NodeClass,
  type NodeId,
  type ReferenceDescription,
  resolveNodeId,
  type Variant,
  VariantArrayType,
} from 'node-opcua-client';

type Out = { write(s: string): void };

const USAGE = `gridstream opcua browse <opc.tcp://host:port[/path]> [--depth N] [--start NodeId|/browse/path]
                       [--security None|Sign|SignAndEncrypt] [--policy Basic256Sha256|Aes128_Sha256_RsaOaep|Aes256_Sha256_RsaPss]
                       [--user NAME (--password-env VAR | --password-file FILE)] [--trust-server] [--all]
                       [--timeout ms] [--pki DIR] [--json]
gridstream opcua cert [--pki DIR]

  browse  prints the address space as a tree from the Objects folder (or --start): browse name, NodeId,
          node class, and for variables the data type, value and status. --depth defaults to 3. Standard
          (namespace 0) objects such as Server are listed but not expanded unless --all.
          Secured modes need the server to trust our certificate (see "cert"); --trust-server accepts the
          server's certificate into our trust list on first contact.
          --json prints the tree as one JSON document instead (errors go to stderr; same exit codes):
          nested nodes {"nodeId", "browseName", "displayName", "nodeClass", "dataType"?, "value"?,
          "status"?, "sourceTimestamp"?, "collapsed"?, "children": [...]}. Variables carry dataType, the
          whole value (arrays in full; 64-bit integers, NaN and Infinity as strings; DateTime ISO 8601
          UTC), its status code name and source timestamp; "collapsed" is "shown above" or "standard
          node" for a node listed but not expanded.
  cert    prints the application certificate the collector and this command present to servers: its
          SHA-1 thumbprint (what server UIs show), file, subject, application URI and the trust folders.

  The PKI folder is --pki, else $OPCUA_PKI_DIR, else ${DEFAULT_PKI_DIR} (the collector's default).`;

/** A mistake on the command line: printed with the usage, exit code 2. */
class UsageError extends Error {}

/**
 * `gridstream opcua …`: argv is what follows `opcua` (a leading "opcua" is tolerated). With --json,
 * `out` gets the JSON document alone and every message goes to `err`.
 */
export async function runOpcuaCommand(argv: string[], out: Out, err: Out = process.stderr): Promise<number> {
  const args = argv[0] === 'opcua' ? argv.slice(1) : argv;
  const json = args.includes('--json');
  // node-opcua prints certificate dumps and warnings to the console; the command reports its own
  // one-line errors instead (OPCUA_DEBUG=1 shows node-opcua's output, on stderr with --json).
  if (!process.env.OPCUA_DEBUG) routeNodeOpcuaLogs({ debug: () => undefined, warn: () => undefined });
  else if (json) {
    const toErr = (_obj: object, msg: string) => err.write(`${msg}\n`);
    routeNodeOpcuaLogs({ debug: toErr, warn: toErr });
  }
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    out.write(`${USAGE}\n`);
    return sub === undefined ? 2 : 0;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    out.write(`${USAGE}\n`);
    return 0;
  }
  const messages = json ? err : out;
  try {
    if (sub === 'browse') return await browseCommand(rest, out, messages);
    if (sub === 'cert') return await certCommand(rest, out);
    messages.write(`gridstream opcua: unknown command "${sub}"\n\n${USAGE}\n`);
    return 2;
  } catch (error) {
    if (error instanceof UsageError) {
      messages.write(`gridstream opcua ${sub}: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    messages.write(`gridstream opcua ${sub}: ${(error as Error).message}\n`);
    return 1;
  }
}

function pkiDirFrom(value: string | undefined): string {
  return value ?? process.env.OPCUA_PKI_DIR ?? DEFAULT_PKI_DIR;
}

function parse(
  argv: string[],
  options: NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>['options']>,
) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

async function certCommand(argv: string[], out: Out): Promise<number> {
  const { values, positionals } = parse(argv, { pki: { type: 'string' } });
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
  const pki = await openApplicationPki({
    pkiDir: pkiDirFrom(values.pki as string | undefined),
    watch: false,
  });
  try {
    const info = certificateInfo(pki.certificateFile);
    out.write(
      [
        `thumbprint (SHA-1): ${info.thumbprint}`,
        `SHA-256:            ${info.sha256}`,
        `certificate:        ${pki.certificateFile}`,
        `subject:            ${info.subject}`,
        `application URI:    ${info.applicationUri ?? '(none)'}`,
        `valid:              ${info.validFrom} .. ${info.validTo}`,
        `trusted servers:    ${pki.trustedFolder}  (copy a server certificate here to trust it)`,
        `rejected servers:   ${pki.rejectedFolder}  (certificates we refused; move one to trusted to accept it)`,
        '',
      ].join('\n'),
    );
    return 0;
  } finally {
    await pki.dispose();
  }
}

interface BrowseOptions {
  endpointUrl: string;
  depth: number;
  start: string;
  securityMode: SecurityModeName;
  securityPolicy: SecurityPolicyName;
  identity: UserIdentity;
  timeoutMs: number;
  pkiDir: string;
  trustServer: boolean;
  all: boolean;
  json: boolean;
}

function browseOptions(argv: string[]): BrowseOptions {
  const { values, positionals } = parse(argv, {
    depth: { type: 'string' },
    start: { type: 'string' },
    security: { type: 'string' },
    policy: { type: 'string' },
    user: { type: 'string' },
    'password-env': { type: 'string' },
    'password-file': { type: 'string' },
    timeout: { type: 'string' },
    pki: { type: 'string' },
    'trust-server': { type: 'boolean' },
    all: { type: 'boolean' },
    json: { type: 'boolean' },
  });
  const [endpointUrl, extra] = positionals;
  if (!endpointUrl) throw new UsageError('the endpoint URL is required');
  if (extra !== undefined) throw new UsageError(`unexpected argument ${extra}`);
  if (!/^opc\.tcp:\/\/[^\s/:]+(:\d+)?(\/.*)?$/.test(endpointUrl))
    throw new UsageError(
      `"${endpointUrl}" is not an OPC UA endpoint URL (expected opc.tcp://host:port[/path])`,
    );
  const int = (name: string, text: unknown, fallback: number, min: number, max: number) => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new UsageError(`--${name} must be a whole number from ${min} to ${max}`);
    return n;
  };
  const mode = SecurityModeSchema.safeParse((values.security as string | undefined) ?? 'None');
  if (!mode.success) throw new UsageError(`--security must be one of ${SECURITY_MODE_NAMES.join(', ')}`);
  let policy: SecurityPolicyName = 'None';
  if (mode.data !== 'None') {
    const parsed = SecurityPolicySchema.safeParse((values.policy as string | undefined) ?? 'Basic256Sha256');
    if (!parsed.success) throw new UsageError(`--policy: ${parsed.error.issues[0]?.message}`);
    policy = parsed.data;
  } else if (values.policy !== undefined && values.policy !== 'None') {
    throw new UsageError('--policy needs --security Sign or SignAndEncrypt');
  }
  let identity: UserIdentity = { type: 'anonymous' };
  if (values.user !== undefined) {
    const envName = values['password-env'] as string | undefined;
    const file = values['password-file'] as string | undefined;
    let password: string | undefined;
    if (envName) password = process.env[envName];
    else if (file) password = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    else
      throw new UsageError(
        '--user needs --password-env VAR or --password-file FILE (never the password itself)',
      );
    if (!password) throw new UsageError(`${envName} is not set`);
    identity = { type: 'username', username: values.user as string, password };
  }
  return {
    endpointUrl,
    depth: int('depth', values.depth, 3, 0, 20),
    start: (values.start as string | undefined) ?? 'i=85',
    securityMode: mode.data,
    securityPolicy: policy,
    identity,
    timeoutMs: int('timeout', values.timeout, 10_000, 500, 600_000),
    pkiDir: pkiDirFrom(values.pki as string | undefined),
    trustServer: values['trust-server'] === true,
    all: values.all === true,
    json: values.json === true,
  };
}

async function browseCommand(argv: string[], out: Out, messages: Out): Promise<number> {
  const options = browseOptions(argv);
  const pki = await openApplicationPki({
    pkiDir: options.pkiDir,
    autoTrustServers: options.trustServer,
    watch: false,
  });
  const client = createClient({
    pki,
    securityMode: options.securityMode,
    securityPolicy: options.securityPolicy,
    reconnect: false,
    requestTimeoutMs: options.timeoutMs,
    clientName: 'gridstream-cli',
  });
  let session: ClientSession | undefined;
  try {
    await withTimeout(client.connect(options.endpointUrl), options.timeoutMs, 'connecting');
    session = await withTimeout(
      client.createSession(userIdentityInfo(options.identity)),
      options.timeoutMs,
      'opening a session',
    );
    const root = await withTimeout(
      browseTree(session, options),
      Math.max(options.timeoutMs, 60_000),
      'browsing',
    );
    out.write(options.json ? `${JSON.stringify(browseTreeToJson(root))}\n` : formatBrowseTree(root));
    return 0;
  } catch (error) {
    messages.write(`gridstream opcua browse: ${describe(error, options, pki)}\n`);
    return 1;
  } finally {
    await closeQuietly(client, session, 3_000);
    await pki.dispose();
  }
}

function describe(error: unknown, options: BrowseOptions, pki: ApplicationPki): string {
  let thumbprint: string | undefined;
  try {
    thumbprint = certificateInfo(pki.certificateFile).thumbprint;
  } catch {
    thumbprint = undefined;
  }
  return describeOpcuaError(error, {
    endpointUrl: options.endpointUrl,
    securityMode: options.securityMode,
    securityPolicy: options.securityPolicy,
    trustedFolder: pki.trustedFolder,
    rejectedFolder: pki.rejectedFolder,
    thumbprint,
  });
}

/** A node of the browsed tree: what both the printed tree and `--json` are made of. */
export interface BrowseNode {
  nodeId: NodeId;
  /** Qualified name as text: `2:Microgrid`, without a prefix in namespace 0 (`Server`). */
  browseName: string;
  displayName: string;
  nodeClass: NodeClass;
  children: BrowseNode[];
  /** Listed but not expanded: the node was already shown, or is a standard node without --all. */
  collapsed?: 'shown above' | 'standard node';
  /** Variables: their data type and current value. */
  variable?: {
    dataType: string;
    value: JsonValue;
    /** The value as the tree prints it (arrays as `[N items]`, long text cut). */
    shown: string;
    /** The value's status code name (`Good`, `BadWaitingForInitialData`, …). */
    status: string;
    good: boolean;
    sourceTimestamp?: Date;
  };
}

export type JsonValue = string | number | boolean | null | JsonValue[];

/** Breadth-first, one batched Browse and one batched Read per level. */
async function browseTree(session: ClientSession, options: BrowseOptions): Promise<BrowseNode> {
  const [resolution] = await resolveNodeRefs(session, [
    options.start.startsWith('/')
      ? { kind: 'browsePath', path: options.start }
      : { kind: 'nodeId', nodeId: options.start },
  ]);
  if (!resolution?.ok) throw new Error(`--start ${options.start}: ${resolution?.error}`);
  const rootId = resolution.nodeId;
  const [rootName, rootClass, rootDisplay] = await session.read([
    { nodeId: rootId, attributeId: AttributeIds.BrowseName },
    { nodeId: rootId, attributeId: AttributeIds.NodeClass },
    { nodeId: rootId, attributeId: AttributeIds.DisplayName },
  ]);
  if (!rootName?.statusCode.isGood())
    throw new Error(`--start ${options.start}: ${rootName?.statusCode.name}`);
  const browseName = String(rootName.value.value?.toString() ?? options.start);
  const root: BrowseNode = {
    nodeId: rootId,
    browseName,
    displayName: String(rootDisplay?.value.value?.text ?? browseName),
    nodeClass: rootClass?.value.value as NodeClass,
    children: [],
  };
  let level: BrowseNode[] = [root];
  const seen = new Set<string>([rootId.toString()]);
  for (let depth = 0; depth < options.depth && level.length > 0; depth++) {
    const expandable = level.filter((n) => !n.collapsed);
    if (expandable.length === 0) break;
    const results = await browseAll(
      session,
      expandable.map((n) => ({
        nodeId: n.nodeId,
        browseDirection: BrowseDirection.Forward,
        referenceTypeId: 'HierarchicalReferences',
        includeSubtypes: true,
        nodeClassMask: 0,
        resultMask: 63,
      })),
    );
    const next: BrowseNode[] = [];
    expandable.forEach((parent, i) => {
      for (const ref of results[i]?.references ?? []) {
        const id = ref.nodeId.toString();
        const child = nodeFrom(ref);
        if (seen.has(id)) child.collapsed = 'shown above';
        else if (
          !options.all &&
          depth === 0 &&
          ref.nodeId.namespace === 0 &&
          ref.nodeClass === NodeClass.Object
        )
          child.collapsed = 'standard node';
        seen.add(id);
        parent.children.push(child);
        next.push(child);
      }
    });
    await describeVariables(session, next);
    level = next;
  }
  return root;
}

function nodeFrom(ref: ReferenceDescription): BrowseNode {
  const ns = ref.browseName.namespaceIndex;
  const browseName = ns === 0 ? String(ref.browseName.name) : `${ns}:${ref.browseName.name}`;
  return {
    nodeId: resolveNodeId(ref.nodeId.toString()),
    browseName,
    displayName: ref.displayName?.text ?? browseName,
    nodeClass: ref.nodeClass,
    children: [],
  };
}

async function describeVariables(session: ClientSession, nodes: BrowseNode[]): Promise<void> {
  const variables = nodes.filter((n) => n.nodeClass === NodeClass.Variable);
  for (let start = 0; start < variables.length; start += 500) {
    const chunk = variables.slice(start, start + 500);
    const values = await session.read(
      chunk.flatMap((n) => [
        { nodeId: n.nodeId, attributeId: AttributeIds.Value },
        { nodeId: n.nodeId, attributeId: AttributeIds.DataType },
      ]),
    );
    chunk.forEach((n, k) => {
      const value = values[2 * k];
      const dataType = values[2 * k + 1];
      const v = value?.value;
      let shown: string;
      if (!value || v === undefined || v.dataType === DataType.Null) shown = 'null';
      else if (Array.isArray(v.value) || ArrayBuffer.isView(v.value))
        shown = `[${(v.value as unknown[]).length} items]`;
      else if (typeof v.value === 'number' || typeof v.value === 'boolean') shown = String(v.value);
      else if (v.value instanceof Date) shown = v.value.toISOString();
      else shown = JSON.stringify(typeof v.value === 'string' ? v.value : String(v.value));
      if (shown.length > 60) shown = `${shown.slice(0, 57)}...`;
      n.variable = {
        dataType: dataTypeName(dataType?.value.value as NodeId | null),
        value: variantToJson(v),
        shown,
        status: value?.statusCode.name ?? 'BadNoData',
        good: value?.statusCode.isGood() === true,
        ...(value?.sourceTimestamp ? { sourceTimestamp: value.sourceTimestamp } : {}),
      };
    });
  }
}

/** A 64-bit integer as node-opcua holds it, [high, low] 32-bit words, to its decimal text. */
function int64Text(words: readonly number[], signed: boolean): string {
  const bits = (BigInt(words[0]! >>> 0) << 32n) | BigInt(words[1]! >>> 0);
  return (signed ? BigInt.asIntN(64, bits) : bits).toString();
}

function scalarToJson(value: unknown, dataType: DataType): JsonValue {
  if (value === null || value === undefined) return null;
  if ((dataType === DataType.Int64 || dataType === DataType.UInt64) && Array.isArray(value))
    return int64Text(value as number[], dataType === DataType.Int64);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'boolean' || typeof value === 'string') return value;
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (typeof value === 'object' && 'text' in value) return (value as { text: string | null }).text; // LocalizedText
  return String(value);
}

/**
 * A value for JSON: numbers, booleans and strings as they are, NaN/±Infinity and 64-bit integers as
 * strings, DateTime ISO 8601 UTC, ByteString base64, LocalizedText its text, arrays element by element,
 * other structures as node-opcua prints them.
 */
export function variantToJson(v: Variant | undefined | null): JsonValue {
  if (!v || v.dataType === DataType.Null) return null;
  if (v.arrayType !== VariantArrayType.Scalar && (Array.isArray(v.value) || ArrayBuffer.isView(v.value)))
    return Array.from(v.value as ArrayLike<unknown>, (x) => scalarToJson(x, v.dataType));
  return scalarToJson(v.value, v.dataType);
}

function dataTypeName(id: NodeId | null | undefined): string {
  if (!id) return '?';
  if (id.namespace === 0 && typeof id.value === 'number' && DataType[id.value] !== undefined)
    return DataType[id.value]!;
  return id.toString();
}

const CLASS_NAMES: Partial<Record<NodeClass, string>> = {
  [NodeClass.Object]: 'Object',
  [NodeClass.Variable]: 'Variable',
  [NodeClass.Method]: 'Method',
  [NodeClass.ObjectType]: 'ObjectType',
  [NodeClass.VariableType]: 'VariableType',
  [NodeClass.ReferenceType]: 'ReferenceType',
  [NodeClass.DataType]: 'DataType',
  [NodeClass.View]: 'View',
};

const COLLAPSED_TEXT: Record<NonNullable<BrowseNode['collapsed']>, string> = {
  'shown above': '(shown above)',
  'standard node': '(standard node; --all to expand)',
};

function line(n: BrowseNode): string {
  const cls = CLASS_NAMES[n.nodeClass] ?? String(n.nodeClass);
  const v = n.variable;
  const detail = v
    ? `  ${v.dataType} = ${v.shown}${v.good ? '' : ` [${v.status}]`}${v.sourceTimestamp ? ` @ ${v.sourceTimestamp.toISOString()}` : ''}`
    : '';
  const more = n.collapsed ? ` ${COLLAPSED_TEXT[n.collapsed]}` : '';
  return `${n.browseName}  (${n.nodeId.toString()})  ${cls}${detail}${more}`;
}

/** The tree as printed: one line per node, children under their parent with box-drawing branches. */
export function formatBrowseTree(root: BrowseNode): string {
  const lines = [line(root)];
  const walk = (n: BrowseNode, prefix: string) => {
    n.children.forEach((child, i) => {
      const last = i === n.children.length - 1;
      lines.push(`${prefix}${last ? '└─ ' : '├─ '}${line(child)}`);
      walk(child, `${prefix}${last ? '   ' : '│  '}`);
    });
  };
  walk(root, '');
  return `${lines.join('\n')}\n`;
}

/** A node of `opcua browse --json`. */
export interface BrowseNodeJson {
  nodeId: string;
  browseName: string;
  displayName: string;
  nodeClass: string;
  dataType?: string;
  value?: JsonValue;
  status?: string;
  sourceTimestamp?: string;
  collapsed?: 'shown above' | 'standard node';
  children: BrowseNodeJson[];
}

/** The tree as `--json` prints it: nested objects, children in browse order (pure). */
export function browseTreeToJson(n: BrowseNode): BrowseNodeJson {
  const v = n.variable;
  return {
    nodeId: n.nodeId.toString(),
    browseName: n.browseName,
    displayName: n.displayName,
    nodeClass: CLASS_NAMES[n.nodeClass] ?? String(n.nodeClass),
    ...(v
      ? {
          dataType: v.dataType,
          value: v.value,
          status: v.status,
          ...(v.sourceTimestamp ? { sourceTimestamp: v.sourceTimestamp.toISOString() } : {}),
        }
      : {}),
    ...(n.collapsed ? { collapsed: n.collapsed } : {}),
    children: n.children.map(browseTreeToJson),
  };
}
