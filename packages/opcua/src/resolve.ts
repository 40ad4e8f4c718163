import {
  AttributeIds,
  BrowseDirection,
  browseAll,
  type ClientSession,
  makeBrowsePath,
  NodeId,
  ObjectIds,
  type ReferenceDescription,
  resolveNodeId,
} from 'node-opcua-client';

/**
 * How a configured point names its node. NodeIds and browse paths are both resolved on every (re)connect:
 * a restarted server may assign numeric NodeIds and namespace indexes anew, and the browse path (or the
 * namespace URI) is what stays stable.
 */
export type NodeRef =
  /** `ns=2;s=Battery01.SOC`, `i=2258`, or `nsu=urn:vendor:ns;s=…` (namespace looked up by URI). */
  | { kind: 'nodeId'; nodeId: string }
  /** `/Objects/Microgrid/Site01/Battery01/SOC`: browse names from the root, `2:Name` pins a namespace. */
  | { kind: 'browsePath'; path: string }
  /** OPC UA RelativePath text (`/Objects/2:Microgrid.2:SOC`), resolved with TranslateBrowsePathsToNodeIds. */
  | { kind: 'relativePath'; path: string; start?: string };

export interface PathSegment {
  name: string;
  /** Namespace index; absent = any namespace (refused if more than one child matches). */
  ns?: number;
}

/** `/Objects/2:Microgrid/Site\/01` → segments; a backslash escapes the next character. */
export function parseBrowsePath(path: string): PathSegment[] {
  if (!path.startsWith('/'))
    throw new Error(`browse path must start with "/" (from the root folder): ${path}`);
  const segments: PathSegment[] = [];
  let current = '';
  let escaped = false;
  for (const ch of path.slice(1)) {
    if (escaped) {
      current += ch;
      escaped = false;
    } else if (ch === '\\') escaped = true;
    else if (ch === '/') {
      segments.push(segment(current, path));
      current = '';
    } else current += ch;
  }
  segments.push(segment(current, path));
  return segments;
}

function segment(text: string, path: string): PathSegment {
  if (text === '') throw new Error(`empty browse name in ${path}`);
  const m = /^(\d+):(.+)$/.exec(text);
  return m ? { ns: Number(m[1]), name: m[2]! } : { name: text };
}

/** `/Objects/Microgrid` + `Battery01/SOC` → `/Objects/Microgrid/Battery01/SOC`. */
export function joinBrowsePath(base: string | undefined, path: string): string {
  if (path.startsWith('/')) return path;
  if (!base) throw new Error(`relative browse path "${path}" needs the device's browsePath`);
  return `${base.replace(/\/+$/, '')}/${path}`;
}

export type Resolution = { ok: true; nodeId: NodeId } | { ok: false; error: string };

/**
 * Resolves every reference in as few round trips as the server allows: browse paths are walked level by
 * level, browsing each distinct parent once, so 10,000 points under 1,000 devices cost about a thousand
 * browses, not ten thousand.
 */
export async function resolveNodeRefs(session: ClientSession, refs: NodeRef[]): Promise<Resolution[]> {
  const out: Resolution[] = new Array(refs.length);
  let namespaces: string[] | undefined;
  const walks: { index: number; segments: PathSegment[] }[] = [];
  const relative: { index: number; path: string; start: string }[] = [];

  for (let i = 0; i < refs.length; i++) {
    const ref = refs[i]!;
    try {
      if (ref.kind === 'nodeId') {
        if (ref.nodeId.startsWith('nsu=')) {
          namespaces ??= await readNamespaces(session);
          out[i] = { ok: true, nodeId: nodeIdFromUri(ref.nodeId, namespaces) };
        } else out[i] = { ok: true, nodeId: resolveNodeId(ref.nodeId) };
      } else if (ref.kind === 'browsePath') walks.push({ index: i, segments: parseBrowsePath(ref.path) });
      else relative.push({ index: i, path: ref.path, start: ref.start ?? 'RootFolder' });
    } catch (error) {
      out[i] = { ok: false, error: (error as Error).message };
    }
  }

  await walkBrowsePaths(session, walks, out);

  if (relative.length > 0) {
    const results = await session.translateBrowsePath(relative.map((r) => makeBrowsePath(r.start, r.path)));
    relative.forEach((r, k) => {
      const result = results[k];
      const target = result?.targets?.[0];
      out[r.index] =
        result?.statusCode.isGood() && target
          ? { ok: true, nodeId: NodeId.resolveNodeId(target.targetId.toString()) }
          : { ok: false, error: `${r.path}: ${result?.statusCode.name ?? 'no result'}` };
    });
  }
  return out;
}

async function readNamespaces(session: ClientSession): Promise<string[]> {
  const dv = await session.read({ nodeId: resolveNodeId('i=2255'), attributeId: AttributeIds.Value });
  return (dv.value.value as string[] | null) ?? [];
}

function nodeIdFromUri(text: string, namespaces: string[]): NodeId {
  const m = /^nsu=([^;]+);(.+)$/.exec(text);
  if (!m) throw new Error(`bad NodeId ${text}: expected nsu=<namespace uri>;<i=|s=|g=|b=…>`);
  const index = namespaces.indexOf(m[1]!);
  if (index < 0) throw new Error(`${text}: the server has no namespace ${m[1]}`);
  return resolveNodeId(`ns=${index};${m[2]}`);
}

async function walkBrowsePaths(
  session: ClientSession,
  walks: { index: number; segments: PathSegment[] }[],
  out: Resolution[],
): Promise<void> {
  const root = resolveNodeId(ObjectIds.RootFolder);
  const current = walks.map(() => root);
  const children = new Map<string, ReferenceDescription[]>();
  const maxDepth = Math.max(0, ...walks.map((w) => w.segments.length));

  for (let depth = 0; depth < maxDepth; depth++) {
    const active = walks
      .map((_, k) => k)
      .filter((k) => walks[k]!.segments.length > depth && out[walks[k]!.index] === undefined);
    const toBrowse = [...new Set(active.map((k) => current[k]!.toString()))].filter(
      (id) => !children.has(id),
    );
    if (toBrowse.length > 0) {
      const results = await browseAll(
        session,
        toBrowse.map((id) => ({
          nodeId: id,
          browseDirection: BrowseDirection.Forward,
          referenceTypeId: 'HierarchicalReferences',
          includeSubtypes: true,
          nodeClassMask: 0,
          resultMask: 63,
        })),
      );
      toBrowse.forEach((id, i) => {
        const result = results[i];
        children.set(id, result?.statusCode.isGood() ? (result.references ?? []) : []);
      });
    }
    for (const k of active) {
      const walk = walks[k]!;
      const seg = walk.segments[depth]!;
      const parent = current[k]!.toString();
      const matches = uniqueTargets(
        (children.get(parent) ?? []).filter(
          (r) =>
            r.browseName.name === seg.name &&
            (seg.ns === undefined || r.browseName.namespaceIndex === seg.ns),
        ),
      );
      const under = depth === 0 ? 'the root folder' : describe(walk.segments.slice(0, depth));
      const name = seg.ns === undefined ? seg.name : `${seg.ns}:${seg.name}`;
      if (matches.length === 0) {
        out[walk.index] = { ok: false, error: `no child "${name}" under ${under}` };
      } else if (matches.length > 1) {
        const names = matches.map((r) => `${r.browseName.namespaceIndex}:${r.browseName.name}`).join(', ');
        out[walk.index] = {
          ok: false,
          error: `"${name}" under ${under} is ambiguous (${names}); write the namespace index, e.g. 2:${seg.name}`,
        };
      } else {
        current[k] = NodeId.resolveNodeId(matches[0]!.nodeId.toString());
        if (depth === walk.segments.length - 1) out[walk.index] = { ok: true, nodeId: current[k]! };
      }
    }
  }
}

function uniqueTargets(refs: ReferenceDescription[]): ReferenceDescription[] {
  const seen = new Map<string, ReferenceDescription>();
  for (const r of refs) seen.set(r.nodeId.toString(), r);
  return [...seen.values()];
}

function describe(segments: PathSegment[]): string {
  return `/${segments.map((s) => (s.ns === undefined ? s.name : `${s.ns}:${s.name}`)).join('/')}`;
}
