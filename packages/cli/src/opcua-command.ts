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
} from 'node-opcua-client';

type Out = { write(s: string): void };

const USAGE = `gridstream opcua browse <opc.tcp://host:port[/path]> [--depth N] [--start NodeId|/browse/path]
                       [--security None|Sign|SignAndEncrypt] [--policy Basic256Sha256|Aes128_Sha256_RsaOaep|Aes256_Sha256_RsaPss]
                       [--user NAME (--password-env VAR | --password-file FILE)] [--trust-server] [--all]
                       [--timeout ms] [--pki DIR]
gridstream opcua cert [--pki DIR]

  browse  prints the address space as a tree from the Objects folder (or --start): browse name, NodeId,
          node class, and for variables the data type, value and status. --depth defaults to 3. Standard
          (namespace 0) objects such as Server are listed but not expanded unless --all.
          Secured modes need the server to trust our certificate (see "cert"); --trust-server accepts the
          server's certificate into our trust list on first contact.
  cert    prints the application certificate the collector and this command present to servers: its
          SHA-1 thumbprint (what server UIs show), file, subject, application URI and the trust folders.

  The PKI folder is --pki, else $OPCUA_PKI_DIR, else ${DEFAULT_PKI_DIR} (the collector's default).`;

/** A mistake on the command line: printed with the usage, exit code 2. */
class UsageError extends Error {}

/** `gridstream opcua …`: argv is what follows `opcua` (a leading "opcua" is tolerated). */
export async function runOpcuaCommand(argv: string[], out: Out): Promise<number> {
  const args = argv[0] === 'opcua' ? argv.slice(1) : argv;
  // node-opcua prints certificate dumps and warnings to the console; the command reports its own
  // one-line errors instead (OPCUA_DEBUG=1 shows node-opcua's output).
  if (!process.env.OPCUA_DEBUG) routeNodeOpcuaLogs({ debug: () => undefined, warn: () => undefined });
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    out.write(`${USAGE}\n`);
    return sub === undefined ? 2 : 0;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    out.write(`${USAGE}\n`);
    return 0;
  }
  try {
    if (sub === 'browse') return await browseCommand(rest, out);
    if (sub === 'cert') return await certCommand(rest, out);
    out.write(`gridstream opcua: unknown command "${sub}"\n\n${USAGE}\n`);
    return 2;
  } catch (error) {
    if (error instanceof UsageError) {
      out.write(`gridstream opcua ${sub}: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    out.write(`gridstream opcua ${sub}: ${(error as Error).message}\n`);
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
  };
}

async function browseCommand(argv: string[], out: Out): Promise<number> {
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
    await withTimeout(printTree(session, options, out), Math.max(options.timeoutMs, 60_000), 'browsing');
    return 0;
  } catch (error) {
    out.write(`gridstream opcua browse: ${describe(error, options, pki)}\n`);
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

interface TreeNode {
  nodeId: NodeId;
  label: string;
  nodeClass: NodeClass;
  children: TreeNode[];
  /** Listed but not expanded (depth reached, or a standard node without --all). */
  collapsed?: string;
  detail?: string;
}

/** Breadth-first, one batched Browse and one batched Read per level, then printed depth-first. */
async function printTree(session: ClientSession, options: BrowseOptions, out: Out): Promise<void> {
  const [resolution] = await resolveNodeRefs(session, [
    options.start.startsWith('/')
      ? { kind: 'browsePath', path: options.start }
      : { kind: 'nodeId', nodeId: options.start },
  ]);
  if (!resolution?.ok) throw new Error(`--start ${options.start}: ${resolution?.error}`);
  const rootId = resolution.nodeId;
  const [rootName, rootClass] = await session.read([
    { nodeId: rootId, attributeId: AttributeIds.BrowseName },
    { nodeId: rootId, attributeId: AttributeIds.NodeClass },
  ]);
  if (!rootName?.statusCode.isGood())
    throw new Error(`--start ${options.start}: ${rootName?.statusCode.name}`);
  const root: TreeNode = {
    nodeId: rootId,
    label: String(rootName.value.value?.toString() ?? options.start),
    nodeClass: rootClass?.value.value as NodeClass,
    children: [],
  };
  let level: TreeNode[] = [root];
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
    const next: TreeNode[] = [];
    expandable.forEach((parent, i) => {
      for (const ref of results[i]?.references ?? []) {
        const id = ref.nodeId.toString();
        const child = nodeFrom(ref);
        if (seen.has(id)) child.collapsed = '(shown above)';
        else if (
          !options.all &&
          depth === 0 &&
          ref.nodeId.namespace === 0 &&
          ref.nodeClass === NodeClass.Object
        )
          child.collapsed = '(standard node; --all to expand)';
        seen.add(id);
        parent.children.push(child);
        next.push(child);
      }
    });
    await describeVariables(session, next);
    level = next;
  }
  out.write(`${line(root)}\n`);
  printChildren(root, '', out);
}

function nodeFrom(ref: ReferenceDescription): TreeNode {
  const ns = ref.browseName.namespaceIndex;
  return {
    nodeId: resolveNodeId(ref.nodeId.toString()),
    label: ns === 0 ? String(ref.browseName.name) : `${ns}:${ref.browseName.name}`,
    nodeClass: ref.nodeClass,
    children: [],
  };
}

async function describeVariables(session: ClientSession, nodes: TreeNode[]): Promise<void> {
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
      const typeName = dataTypeName(dataType?.value.value as NodeId | null);
      const v = value?.value;
      let shown: string;
      if (!value || v === undefined || v.dataType === DataType.Null) shown = 'null';
      else if (Array.isArray(v.value) || ArrayBuffer.isView(v.value))
        shown = `[${(v.value as unknown[]).length} items]`;
      else if (typeof v.value === 'number' || typeof v.value === 'boolean') shown = String(v.value);
      else if (v.value instanceof Date) shown = v.value.toISOString();
      else shown = JSON.stringify(typeof v.value === 'string' ? v.value : String(v.value));
      if (shown.length > 60) shown = `${shown.slice(0, 57)}...`;
      const status = value?.statusCode.isGood() ? '' : ` [${value?.statusCode.name}]`;
      const ts = value?.sourceTimestamp ? ` @ ${value.sourceTimestamp.toISOString()}` : '';
      n.detail = `${typeName} = ${shown}${status}${ts}`;
    });
  }
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

function line(n: TreeNode): string {
  const cls = CLASS_NAMES[n.nodeClass] ?? String(n.nodeClass);
  const more = n.collapsed ? ` ${n.collapsed}`.trimEnd() : '';
  return `${n.label}  (${n.nodeId.toString()})  ${cls}${n.detail ? `  ${n.detail}` : ''}${more ? ` ${more.trim()}` : ''}`;
}

function printChildren(n: TreeNode, prefix: string, out: Out): void {
  n.children.forEach((child, i) => {
    const last = i === n.children.length - 1;
    out.write(`${prefix}${last ? '└─ ' : '├─ '}${line(child)}\n`);
    printChildren(child, `${prefix}${last ? '   ' : '│  '}`, out);
  });
}
