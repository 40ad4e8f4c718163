import { readFileSync } from 'node:fs';

/** The parts of a V8 `.cpuprofile` (what `node --cpu-prof` writes) that a self-time summary needs. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

export interface Hotspot {
  name: string;
  /** Share of all samples, 0..1. */
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Share of samples the process was idle (waiting on I/O). */
  idle: number;
  functions: Hotspot[];
  modules: Hotspot[];
}

/** `node_modules/kafkajs/…` → kafkajs, `services/parser/dist/…` → services/parser, `node:…` → node. */
export function moduleOf(url: string): string {
  if (url === '') return '(native/V8)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  const own = /\/(services|packages)\/([^/]+)\//.exec(url);
  if (own) return `${own[1]}/${own[2]}`;
  if (url.startsWith('node:')) return 'node (lib)';
  return url;
}

function shortUrl(url: string): string {
  return url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules|services|packages)\//, '$1/');
}

/**
 * Self time per function and per module: where the process spends its CPU when nothing it calls is
 * counted. `(garbage collector)` and `(program)` are V8's own buckets and are reported as they are.
 */
export function summariseProfile(profile: CpuProfile, top = 12): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const fnTime = new Map<string, number>();
  const modTime = new Map<string, number>();
  let total = 0;
  let idle = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const frame = byId.get(id);
    if (!frame) return;
    total += dt;
    if (frame.functionName === '(idle)') {
      idle += dt;
      return;
    }
    const name =
      frame.url === ''
        ? frame.functionName || '(anonymous)'
        : `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
    fnTime.set(name, (fnTime.get(name) ?? 0) + dt);
    // Frames without a script are V8's buckets ((garbage collector), (program)) or native code.
    const mod =
      frame.url !== ''
        ? moduleOf(frame.url)
        : frame.functionName.startsWith('(')
          ? frame.functionName
          : '(native)';
    modTime.set(mod, (modTime.get(mod) ?? 0) + dt);
  });
  const busy = total - idle;
  const rank = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, t]) => ({ name, share: busy > 0 ? t / busy : 0 }));
  return {
    totalMs: total / 1000,
    idle: total > 0 ? idle / total : 0,
    functions: rank(fnTime),
    modules: rank(modTime),
  };
}

export function readProfile(path: string): CpuProfile {
  return JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
}

/** Markdown: busy share, then the top modules and functions by self time (shares of busy time). */
export function profileMarkdown(title: string, s: ProfileSummary): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  return [
    `#### ${title}`,
    '',
    `${(s.totalMs / 1000).toFixed(1)} s profiled, ${pct(1 - s.idle)} busy. Self time as a share of busy time:`,
    '',
    '| module | self | | function | self |',
    '| --- | ---: | --- | --- | ---: |',
    ...Array.from({ length: Math.max(s.modules.length, s.functions.length) }, (_, i) => {
      const m = s.modules[i];
      const f = s.functions[i];
      return `| ${m ? `\`${m.name}\`` : ''} | ${m ? pct(m.share) : ''} | | ${f ? `\`${f.name}\`` : ''} | ${f ? pct(f.share) : ''} |`;
    }),
    '',
  ].join('\n');
}

// `node bench/dist/profile-summary.js FILE.cpuprofile…`: the same summary for any profile.
if (import.meta.url === `file://${process.argv[1]}`) {
  for (const file of process.argv.slice(2))
    process.stdout.write(`${profileMarkdown(file, summariseProfile(readProfile(file)))}\n`);
}
