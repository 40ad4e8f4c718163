import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '@gridstream/config';
import { kafkaEnvShape } from '@gridstream/kafka';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * docker-compose.yml and deploy/docker/Dockerfile, checked where no Docker engine runs: the validator script
 * (Docker Compose's own loader), then the rules this project adds on top, read from Compose's resolved
 * model (anchors merged, defaults filled in) rather than from the YAML text, so what is checked is what
 * Compose would run. The env check keeps the compose file honest when a service's config schema changes:
 * a renamed or removed variable fails here, not silently in a container. The Dockerfile is read here too,
 * instruction by instruction, and each image's config is worked out the way the builder would (ARG
 * defaults, the stage a SERVICE selects, what each stage inherits from the one it starts FROM).
 */

const root = join(import.meta.dirname, '..');
const validator = join(root, 'deploy/local/compose-validate.sh');
const dockerfilePath = join(root, 'deploy/docker/Dockerfile');
const run = promisify(execFile);

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  command?: string[];
  restart?: string;
  healthcheck?: { test?: string[]; disable?: boolean };
  entrypoint?: string[];
  hostname?: string;
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string | number | null>;
  ports?: { target: number; published?: string; host_ip?: string }[];
  stop_grace_period?: string;
  volumes?: { type: string; source?: string; target: string; read_only?: boolean }[];
  profiles?: string[];
  secrets?: { source: string; target?: string }[];
  devices?: { source: string; target: string; permissions?: string }[];
  group_add?: string[];
}
interface ComposeModel {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  secrets?: Record<string, { environment?: string; file?: string; external?: boolean }>;
}
interface EnvField {
  parse(value: unknown): unknown;
}
interface ServiceSchema {
  shape: Record<string, EnvField>;
}

// Compose interpolates ${VAR:-default} from the caller's environment: a minimal one, so the checks below
// see this file's own defaults and not whatever the developer or CI happens to export.
const cleanEnv = {
  PATH: `${dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`,
  HOME: process.env.HOME ?? '/root',
  ...(process.env.GRIDSTREAM_HOME ? { GRIDSTREAM_HOME: process.env.GRIDSTREAM_HOME } : {}),
};

async function validatorOutput(args: string[], env: Record<string, string> = {}): Promise<string> {
  return (await run(validator, args, { env: { ...cleanEnv, ...env }, maxBuffer: 32 * 1024 * 1024 })).stdout;
}

/** Every profile on: Compose leaves a service out of `config` while its profile is off. */
const ALL_PROFILES = { COMPOSE_PROFILES: '*' };

async function composeModel(
  extra: string[] = [],
  env: Record<string, string> = ALL_PROFILES,
): Promise<ComposeModel> {
  return JSON.parse(
    await validatorOutput(['compose', 'config', '--format', 'json', ...extra], env),
  ) as ComposeModel;
}

/** The zod object a service's config.ts exports (found by shape, so a renamed export does not matter). */
async function serviceSchema(service: string): Promise<ServiceSchema> {
  const mod = (await import(join(root, 'services', service, 'src', 'config.ts'))) as Record<string, unknown>;
  const schemas = Object.values(mod).filter(
    (v): v is ServiceSchema =>
      typeof v === 'object' && v !== null && 'shape' in v && 'HEALTH_PORT' in (v as ServiceSchema).shape,
  );
  expect(schemas, `services/${service}/src/config.ts exports exactly one config schema`).toHaveLength(1);
  return schemas[0]!;
}

/** `1m30s`, `40s`, `500ms` → milliseconds (Compose's duration format). */
function durationMs(value: string): number {
  const units: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const [, amount, unit] of value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g))
    total += Number(amount) * units[unit!]!;
  return total;
}

// ---- deploy/docker/Dockerfile, read without Docker ------------------------------------------------------

/** One instruction, continuation lines joined: its keyword (upper case), its arguments, its first line. */
interface Instruction {
  keyword: string;
  args: string;
  line: number;
}
interface Stage {
  from: string;
  name?: string;
  line: number;
  instructions: Instruction[];
}
interface Dockerfile {
  /** ARGs declared before the first FROM: the only ones a FROM may use. */
  globalArgs: Map<string, string | undefined>;
  stages: Stage[];
}
/** What an image built from one stage would carry, as the builder works it out (without running anything). */
interface ImageConfig {
  /** The stages it is built through, the final one first. */
  stages: string[];
  user?: string;
  /** `['CMD', ...argv]`, `['CMD-SHELL', command]` or `['NONE']`, as `docker inspect` shows it. */
  healthcheck?: string[];
  exposedPorts: string[];
  cmd?: { exec: boolean; argv: string[] };
  entrypoint?: { exec: boolean; argv: string[] };
  env: Record<string, string>;
}

/**
 * Instructions grouped by stage, read the way the builder reads them: a line ending in the escape character
 * (a backslash unless an `# escape=` directive says otherwise, optionally followed by spaces) continues on
 * the next line, which is appended as it is (its indentation kept, nothing inserted); comment and blank lines
 * inside a continuation are skipped, so `RUN a \` / `# note` / ` && b` is `RUN a  && b`. Heredocs are not
 * used in our Dockerfile and not supported here.
 */
function parseDockerfile(text: string): Dockerfile {
  const lines = text.split(/\r?\n/);
  const escapeChar =
    /^#\s*escape\s*=\s*([\\`])\s*$/im.exec(text.slice(0, text.search(/^[^#\s]/m)))?.[1] ?? '\\';
  const continuation = new RegExp(`\\${escapeChar}[ \\t]*$`);
  const isComment = (line: string) => /^[ \t]*#/.test(line);
  const instructions: Instruction[] = [];
  let joined: string | undefined;
  let start = 0;
  lines.forEach((line, index) => {
    if (line.trim() === '' || isComment(line)) return;
    if (joined === undefined) {
      joined = line.trimStart();
      start = index + 1;
    } else joined += line;
    if (continuation.test(joined)) {
      joined = joined.replace(continuation, '');
      return;
    }
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/s.exec(joined) ?? [];
    instructions.push({ keyword: keyword.toUpperCase(), args: args.trim(), line: start });
    joined = undefined;
  });
  if (joined !== undefined)
    throw new Error(`Dockerfile line ${start}: continuation runs past the end of the file`);

  const globalArgs = new Map<string, string | undefined>();
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const [image = '', as, name] = words(withoutFlags(ins.args).rest);
      stages.push({
        from: image,
        ...(as?.toUpperCase() === 'AS' && name ? { name: name.toLowerCase() } : {}),
        line: ins.line,
        instructions: [],
      });
    } else if (stages.length > 0) stages.at(-1)!.instructions.push(ins);
    else if (ins.keyword === 'ARG') for (const [k, v] of argDeclarations(ins.args)) globalArgs.set(k, v);
    else throw new Error(`Dockerfile line ${ins.line}: ${ins.keyword} before the first FROM`);
  }
  return { globalArgs, stages };
}

/** Whitespace-separated words; quotes group and are removed, a backslash keeps the next character. */
function words(text: string): string[] {
  const out: string[] = [];
  let word = '';
  let inWord = false;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) out.push(word);
  return out;
}

/** Leading `--name=value` options (FROM --platform, COPY --from, HEALTHCHECK --interval, RUN --mount). */
function withoutFlags(args: string): { flags: [string, string][]; rest: string } {
  const flags: [string, string][] = [];
  let rest = args;
  for (let m = /^--([\w-]+)(?:=(\S*))?\s*/.exec(rest); m; m = /^--([\w-]+)(?:=(\S*))?\s*/.exec(rest)) {
    flags.push([m[1]!, m[2] ?? '']);
    rest = rest.slice(m[0].length);
  }
  return { flags, rest };
}

function argDeclarations(args: string): [string, string | undefined][] {
  return words(args).map((w) => {
    const eq = w.indexOf('=');
    return eq < 0 ? [w, undefined] : [w.slice(0, eq), w.slice(eq + 1)];
  });
}

/** `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR:+alternative}`; an unset variable becomes empty, as in a build. */
function expand(text: string, vars: Record<string, string | undefined>): string {
  return text.replace(
    /\$(?:\{([A-Za-z_]\w*)(?::([-+])([^}]*))?\}|([A-Za-z_]\w*))/g,
    (_, braced?: string, op?: string, word?: string, bare?: string) => {
      const value = vars[(braced ?? bare)!];
      if (op === '-') return value ? value : (word ?? '');
      if (op === '+') return value ? (word ?? '') : '';
      return value ?? '';
    },
  );
}

/** The global ARGs' values for one build: a build arg overrides a declared ARG's default. */
function globalScope(df: Dockerfile, buildArgs: Record<string, string>): Record<string, string | undefined> {
  const scope: Record<string, string | undefined> = {};
  // A default may use the ARGs declared before it (`ARG IMAGE=node:${NODE_VERSION}-alpine`).
  for (const [k, v] of df.globalArgs) scope[k] = buildArgs[k] ?? (v === undefined ? v : expand(v, scope));
  return scope;
}

/** The stage before `before` that a reference (a stage name or index) names; undefined: an image to pull. */
function stageIndex(df: Dockerfile, ref: string, before: number): number | undefined {
  const i = /^\d+$/.test(ref) ? Number(ref) : df.stages.findIndex((s) => s.name === ref.toLowerCase());
  return i >= 0 && i < before ? i : undefined;
}

/** Every image the build would pull (FROM, COPY --from, RUN --mount from=), ARGs expanded. */
function pulledImages(df: Dockerfile, buildArgs: Record<string, string>): { ref: string; line: number }[] {
  const scope = globalScope(df, buildArgs);
  return df.stages.flatMap((stage, n) => {
    const refs = [{ ref: expand(stage.from, scope), line: stage.line }];
    for (const ins of stage.instructions) {
      for (const [flag, value] of withoutFlags(ins.args).flags) {
        const from =
          flag === 'from' && (ins.keyword === 'COPY' || ins.keyword === 'ADD')
            ? value
            : flag === 'mount' && ins.keyword === 'RUN'
              ? /(?:^|,)from=([^,]+)/.exec(value)?.[1]
              : undefined;
        if (from !== undefined) refs.push({ ref: expand(from, scope), line: ins.line });
      }
    }
    // FROM and --from may name only a stage defined above: anything else is pulled.
    return refs.filter(({ ref }) => ref === '' || stageIndex(df, ref, n) === undefined);
  });
}

function execOrShell(args: string): { exec: boolean; argv: string[] } {
  if (args.startsWith('[')) {
    try {
      const argv: unknown = JSON.parse(args);
      if (Array.isArray(argv) && argv.every((a) => typeof a === 'string')) return { exec: true, argv };
    } catch {
      // Not valid JSON: the builder then runs it as a shell command, like any other text.
    }
  }
  return { exec: false, argv: ['/bin/sh', '-c', args] };
}

/** The config of the image a build with these args produces (its final stage), or the stage at `index`. */
function imageConfig(
  df: Dockerfile,
  buildArgs: Record<string, string>,
  index = df.stages.length - 1,
): ImageConfig {
  const stage = df.stages[index]!;
  const scope = globalScope(df, buildArgs);
  const from = expand(stage.from, scope);
  const parentIndex = stageIndex(df, from, index);
  // A pulled base image's own config is unknown here; only what this Dockerfile sets is checked.
  const parent: ImageConfig =
    parentIndex === undefined
      ? { stages: [from], exposedPorts: [], env: {} }
      : imageConfig(df, buildArgs, parentIndex);
  const image: ImageConfig = {
    ...parent,
    stages: [stage.name ?? `#${index}`, ...parent.stages],
    exposedPorts: [...parent.exposedPorts],
    env: { ...parent.env },
  };
  const args: Record<string, string | undefined> = {};
  const vars = () => ({ ...args, ...image.env });
  let cmdSet = false;
  for (const ins of stage.instructions) {
    switch (ins.keyword) {
      case 'ARG':
        // Re-declaring a global ARG without a value brings its value into the stage.
        for (const [k, v] of argDeclarations(ins.args))
          args[k] = buildArgs[k] ?? (v === undefined ? scope[k] : expand(v, vars()));
        break;
      case 'ENV': {
        // `ENV K=V K2=V2`, or the legacy `ENV K the rest of the line`.
        const legacy = /^([^\s=]+)\s+(.*)$/.exec(ins.args);
        const pairs: [string, string][] =
          legacy && !words(ins.args)[0]?.includes('=')
            ? [[legacy[1]!, legacy[2]!]]
            : words(ins.args).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]);
        for (const [k, v] of pairs) image.env[k] = expand(v, vars());
        break;
      }
      case 'USER':
        image.user = expand(ins.args, vars());
        break;
      case 'EXPOSE':
        for (const w of words(expand(ins.args, vars()))) {
          const port = (w.includes('/') ? w : `${w}/tcp`).toLowerCase();
          if (!image.exposedPorts.includes(port)) image.exposedPorts.push(port);
        }
        break;
      case 'HEALTHCHECK': {
        const { rest } = withoutFlags(ins.args);
        const [kind = '', command = ''] = /^(\S*)\s*(.*)$/.exec(rest)!.slice(1);
        if (kind.toUpperCase() === 'NONE') image.healthcheck = ['NONE'];
        else {
          const parsed = execOrShell(command);
          image.healthcheck = parsed.exec ? ['CMD', ...parsed.argv] : ['CMD-SHELL', command];
        }
        break;
      }
      case 'CMD':
        image.cmd = execOrShell(ins.args);
        cmdSet = true;
        break;
      case 'ENTRYPOINT':
        image.entrypoint = execOrShell(ins.args);
        // As in a build: a new ENTRYPOINT drops a CMD inherited from the stage below (not one set here).
        if (!cmdSet) delete image.cmd;
        break;
    }
  }
  image.exposedPorts.sort();
  return image;
}

function readDockerfile(path: string): Dockerfile {
  return parseDockerfile(readFileSync(path, 'utf8'));
}

/** `node:22.23.3-alpine` → `22.23.3-alpine`; '' when the reference has no tag (a digest does not count). */
function tagOf(ref: string): string {
  const name = ref.split('@')[0]!;
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(colon + 1) : '';
}

const AWS_SDK_VARIABLES = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'];
/** `_PORT` variables that name a server the service connects to, not a port it listens on (no EXPOSE). */
const CLIENT_PORTS = new Set(['PG_PORT']);
/** The services of the optional profile `sinks`, which a plain `docker compose up` does not run. */
const SINKS_PROFILE = ['postgres', 'victoriametrics', 'timescale-writer', 'opentsdb-writer'];
/** The profile `serial`: the serial collector needs a real port of the host (`devices:`), so it is off too. */
const SERIAL_PROFILE = ['serial-collector'];
const PROFILES: Record<string, string[]> = { sinks: SINKS_PROFILE, serial: SERIAL_PROFILE };
const PROFILED = Object.values(PROFILES).flat();
const VARIABLE_REFERENCE = /^\$\{[A-Z0-9_]+(:?[-?][^}]*)?\}$/;
const SECRET_NAME = /PASS|SECRET|TOKEN|CREDENTIAL|PRIVATE_KEY/i;

let validation: { code: number; output: string };
/** Every service, with every profile on (what the rules below hold for). */
let resolved: ComposeModel;
let raw: ComposeModel;
/** What a plain `docker compose up` runs: no profile. */
let plain: ComposeModel;

beforeAll(async () => {
  // First run on a machine without a `docker compose` plugin builds Docker Compose from its Go module (~4 minutes).
  validation = await run(validator, [], { env: { ...process.env, ...cleanEnv } }).then(
    (r) => ({ code: 0, output: r.stdout + r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({
      code: e.code ?? 1,
      output: `${e.stdout ?? ''}${e.stderr ?? ''}`,
    }),
  );
  resolved = await composeModel();
  raw = await composeModel(['--no-interpolate']);
  plain = await composeModel([], {});
}, 1_200_000);

/** Services built from our Dockerfile, by compose name → SERVICE build arg. */
function gridstreamServices(): [string, ComposeService, string][] {
  return Object.entries(resolved.services).flatMap(([name, svc]) =>
    svc.build?.args?.SERVICE ? [[name, svc, svc.build.args.SERVICE] as [string, ComposeService, string]] : [],
  );
}
const isJob = (svc: ComposeService) => svc.restart === 'no';

/**
 * Every image the Dockerfile can be asked for, by SERVICE, with the build args it is built with: those of
 * docker-compose.yml, plus any svc-<name> stage compose does not build yet. The stage the Dockerfile's own
 * default SERVICE selects is left out: it only stops the build with the usage.
 */
function imageBuilds(df: Dockerfile): Map<string, Record<string, string>> {
  const builds = new Map(gridstreamServices().map(([, svc, service]) => [service, svc.build?.args ?? {}]));
  const usageStage = `svc-${df.globalArgs.get('SERVICE') ?? ''}`;
  for (const { name } of df.stages) {
    if (name?.startsWith('svc-') && name !== usageStage && !builds.has(name.slice(4)))
      builds.set(name.slice(4), { SERVICE: name.slice(4) });
  }
  return builds;
}
const composeService = (service: string) => gridstreamServices().find(([, , s]) => s === service);

// The Dockerfile rules, as functions of a parsed Dockerfile so that the mutation tests below can run the
// very same assertions against a broken copy and see them fail.

function expectSelectsServiceStages(df: Dockerfile): void {
  const names = df.stages.flatMap((s) => (s.name ? [s.name] : []));
  expect(
    names.filter((n, i) => names.indexOf(n) !== i),
    'stage names used twice',
  ).toEqual([]);
  for (const [service, args] of imageBuilds(df)) {
    // Without its stage, `FROM svc-${SERVICE}` names an image to pull and the build fails.
    expect(imageConfig(df, args).stages, `SERVICE=${service} builds through stages`).toEqual(
      expect.arrayContaining([`svc-${service}`, 'runtime']),
    );
  }
}

function expectPinnedBases(df: Dockerfile): void {
  for (const args of [{}, ...imageBuilds(df).values()]) {
    const pulled = pulledImages(df, args);
    expect(pulled.length, `images pulled with ${JSON.stringify(args)}`).toBeGreaterThan(0);
    for (const { ref, line } of pulled) {
      const where = `Dockerfile line ${line}, build args ${JSON.stringify(args)}: ${ref || '(empty)'}`;
      if (ref === 'scratch') continue;
      // An exact release: `22` or `22-alpine` would move under us, `latest` or no tag even more.
      expect(tagOf(ref), `${where}: exact version tag`).toMatch(/^v?\d+\.\d+\.\d+(?:[-+._][\w.-]+)?$/);
      // Alpine and the official Node image are what the Dockerfile's comments rely on (musl prebuilds, ICU).
      expect(ref, where).toMatch(/^(?:docker\.io\/)?(?:library\/)?node:\d+\.\d+\.\d+-alpine$/);
    }
  }
}

function expectNonRootUser(df: Dockerfile): void {
  for (const [service, args] of imageBuilds(df)) {
    const user = imageConfig(df, args).user ?? '';
    // Without a USER the image runs as root; `root`, `0`, `root:x` and `0:x` say so explicitly.
    expect(user, `SERVICE=${service}: USER`).not.toBe('');
    expect(user, `SERVICE=${service}: USER`).not.toMatch(/^(?:root|0)(?::|$)/);
    expect(user, `SERVICE=${service}: USER`).toBe('node');
  }
}

function expectHealthProbes(df: Dockerfile): void {
  for (const [service, args] of imageBuilds(df)) {
    const image = imageConfig(df, args);
    if (service === 'cli') {
      // A one-shot command with no health server: an inherited probe would mark it unhealthy.
      expect(image.healthcheck, service).toEqual(['NONE']);
      continue;
    }
    expect(image.healthcheck, `SERVICE=${service}: HEALTHCHECK`).toEqual([
      'CMD',
      'node',
      '/app/healthcheck.mjs',
    ]);
    const compose = composeService(service);
    if (compose)
      expect(compose[1].healthcheck?.test, `${compose[0]}: the image's probe`).toEqual(image.healthcheck);
  }
}

async function expectHealthPorts(df: Dockerfile): Promise<void> {
  for (const [service, args] of imageBuilds(df)) {
    if (service === 'cli') continue;
    const image = imageConfig(df, args);
    const schema = await serviceSchema(service);
    const healthPort = schema.shape.HEALTH_PORT!.parse(undefined) as number;
    expect(image.env.HEALTH_PORT, `SERVICE=${service}: ENV HEALTH_PORT`).toBe(String(healthPort));
    expect(image.env.HEALTH_HOST, `SERVICE=${service}: ENV HEALTH_HOST`).toBe('0.0.0.0');
    expect(image.env.NODE_ENV, `SERVICE=${service}: ENV NODE_ENV`).toBe('production');
    // Every port the service listens on by default (HEALTH_PORT, the console's CONSOLE_PORT), and no other.
    const listens = Object.entries(schema.shape)
      .filter(([key]) => key.endsWith('_PORT') && !CLIENT_PORTS.has(key))
      .map(([, field]) => field.parse(undefined))
      .filter((port): port is number => typeof port === 'number')
      .map((port) => `${port}/tcp`)
      .sort();
    expect(image.exposedPorts, `SERVICE=${service}: EXPOSE`).toEqual(listens);
    // A server that binds loopback by default (CONSOLE_HOST) is unreachable through a port mapping.
    for (const key of Object.keys(schema.shape).filter((k) => k.endsWith('_HOST') && k !== 'HEALTH_HOST'))
      if (listens.length > 1) expect(image.env[key], `SERVICE=${service}: ENV ${key}`).toBe('0.0.0.0');
    const compose = composeService(service);
    if (compose) {
      const [name, svc] = compose;
      expect(
        svc.ports?.map((p) => `${p.target}/tcp`),
        `${name}: publishes the EXPOSEd port`,
      ).toEqual(expect.arrayContaining(image.exposedPorts));
      // Compose's environment wins over the image's ENV: a different HEALTH_PORT there moves the server.
      const composePort = svc.environment?.HEALTH_PORT;
      if (composePort !== undefined && composePort !== null)
        expect(String(composePort), `${name}: HEALTH_PORT`).toBe(String(healthPort));
    }
  }
}

function expectExecFormCmd(df: Dockerfile): void {
  for (const [service, args] of imageBuilds(df)) {
    const image = imageConfig(df, args);
    // Shell form makes /bin/sh PID 1: SIGTERM from `docker stop` never reaches node, which is then killed
    // without draining when stop_grace_period runs out.
    expect(image.cmd?.exec, `SERVICE=${service}: CMD in exec form`).toBe(true);
    if (image.entrypoint)
      expect(image.entrypoint.exec, `SERVICE=${service}: ENTRYPOINT in exec form`).toBe(true);
    const main = service === 'cli' ? 'packages/cli/dist/main.js' : `services/${service}/dist/main.js`;
    expect(image.cmd?.argv, `SERVICE=${service}: CMD`).toEqual(['node', main]);
  }
}

describe('compose-validate.sh', () => {
  it('accepts docker-compose.yml and deploy/docker/Dockerfile', () => {
    expect(validation.output).toContain('docker-compose.yml: valid');
    expect(validation.code, validation.output).toBe(0);
  });
});

describe('docker-compose.yml', () => {
  it('builds the pipeline services and the topics job from deploy/docker/Dockerfile', () => {
    const built = gridstreamServices().map(([, , service]) => service);
    expect(built).toEqual(expect.arrayContaining(['bridge', 'parser', 'influx-writer', 'simulator', 'cli']));
    for (const [name, svc] of gridstreamServices()) {
      expect(svc.build?.dockerfile, name).toMatch(/deploy\/docker\/Dockerfile$/);
    }
  });

  it('gives every long-running gridstream service a health check, a restart policy and ordered dependencies', () => {
    for (const [name, svc] of gridstreamServices().filter(([, s]) => !isJob(s))) {
      expect(svc.healthcheck?.test?.length, `${name} healthcheck`).toBeGreaterThan(0);
      expect(svc.healthcheck?.disable, `${name} healthcheck disabled`).not.toBe(true);
      expect(svc.restart, name).toBe('unless-stopped');
      const deps = Object.entries(svc.depends_on ?? {});
      expect(deps.length, `${name} depends_on`).toBeGreaterThan(0);
      for (const [dep, { condition }] of deps) {
        expect(['service_healthy', 'service_completed_successfully'], `${name} -> ${dep}`).toContain(
          condition,
        );
      }
    }
  });

  it('waits only on dependencies that can report what it waits for', () => {
    for (const [name, svc] of Object.entries(resolved.services)) {
      for (const [dep, { condition }] of Object.entries(svc.depends_on ?? {})) {
        const target = resolved.services[dep];
        expect(target, `${name} depends on unknown ${dep}`).toBeDefined();
        if (condition === 'service_healthy') {
          expect(
            target?.healthcheck?.test?.length,
            `${dep} has a healthcheck (${name} waits for it)`,
          ).toBeGreaterThan(0);
        }
        if (condition === 'service_completed_successfully')
          expect(isJob(target!), `${dep} is a job`).toBe(true);
      }
    }
  });

  it('has every one-shot job awaited by a long-running service, so `up --wait` does not fail on its exit', () => {
    const jobs = Object.entries(resolved.services).filter(([, s]) => isJob(s));
    expect(jobs.map(([name]) => name)).toContain('topics');
    for (const [job] of jobs) {
      const adopters = Object.entries(resolved.services).filter(
        ([, s]) => !isJob(s) && s.depends_on?.[job]?.condition === 'service_completed_successfully',
      );
      expect(adopters.length, `${job} is awaited by a long-running service`).toBeGreaterThan(0);
    }
    expect(resolved.services.topics?.command).toEqual([
      'node',
      'packages/cli/dist/main.js',
      'topics',
      'create',
    ]);
    expect(resolved.services.topics?.depends_on?.kafka?.condition).toBe('service_healthy');
  });

  it('pins every image to a version (no latest, no missing tag)', () => {
    for (const [name, svc] of Object.entries(resolved.services)) {
      const image = svc.image ?? '';
      const tag = image.includes(':') ? image.slice(image.lastIndexOf(':') + 1) : '';
      expect(tag, `${name}: ${image}`).not.toBe('');
      expect(tag, `${name}: ${image}`).not.toBe('latest');
      // A version number, or MinIO's timestamped release names (RELEASE.2025-09-07T16-13-09Z).
      if (!svc.build)
        expect(tag, `${name}: ${image} names a version`).toMatch(
          /^(?:v?\d+(\.\d+)+|RELEASE\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ)/,
        );
    }
  });

  it('holds no literal credentials: secrets are only variable references', () => {
    for (const [name, svc] of Object.entries(raw.services)) {
      for (const [key, entry] of Object.entries(svc.environment ?? {})) {
        if (entry === null) continue;
        // Without interpolation Compose keeps YAML numbers as numbers (KAFKA_NODE_ID: 1).
        const value = String(entry);
        if (SECRET_NAME.test(key) && !key.endsWith('_FILE')) {
          expect(value, `${name}.${key} must be a \${VAR} reference`).toMatch(VARIABLE_REFERENCE);
        }
        expect(value, `${name}.${key}: credentials inside a URL`).not.toMatch(/:\/\/[^/@\s]+:[^/@\s]+@/);
      }
    }
    // A Compose secret holds a variable's value (.env), never a file of the repository.
    for (const [name, secret] of Object.entries(raw.secrets ?? {})) {
      expect(secret.environment, `secret ${name}: from a variable`).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(secret.file, `secret ${name}: no file`).toBeUndefined();
    }
    // The broker's user and the clients' come from the same variables, or every connection is refused.
    const rabbit = raw.services.rabbitmq?.environment ?? {};
    for (const client of ['bridge', 'simulator']) {
      const env = raw.services[client]?.environment ?? {};
      expect(env.AMQP_USERNAME, client).toBe(rabbit.RABBITMQ_DEFAULT_USER);
      expect(env.AMQP_PASSWORD, client).toBe(rabbit.RABBITMQ_DEFAULT_PASS);
    }
  });

  it("sets only variables that the service's config schema declares, with values it accepts", async () => {
    // A <NAME>_FILE naming a Compose secret the service mounts gets a file with a placeholder in its place.
    const secretsDir = mkdtempSync(join(tmpdir(), 'gridstream-compose-secrets-'));
    try {
      for (const [name, svc, service] of gridstreamServices()) {
        const mounted = new Map((svc.secrets ?? []).map((s) => [s.target ?? `/run/secrets/${s.source}`, s]));
        const env: Record<string, string> = {};
        for (const [key, value] of Object.entries(svc.environment ?? {})) {
          if (value === null) continue;
          const secret = key.endsWith('_FILE') ? mounted.get(String(value)) : undefined;
          if (secret) {
            env[key] = join(secretsDir, `${name}-${secret.source}`);
            writeFileSync(env[key], 'compose-secret-placeholder\n');
          } else env[key] = String(value);
        }
        // The CLI's topics command reads the Kafka variables (and nothing a service image adds).
        const schema = service === 'cli' ? undefined : await serviceSchema(service);
        const declared = Object.keys(schema ? schema.shape : kafkaEnvShape);
        // loadConfig also accepts <NAME>_FILE (a mounted secret) for every declared NAME. A service with an
        // S3 archive also gets the AWS SDK's own credential variables, which are deliberately not ours.
        const sdk = declared.includes('ARCHIVE_S3_BUCKET') ? AWS_SDK_VARIABLES : [];
        // NODE_OPTIONS is Node's own (a heap cap an operator may set), read before any config is.
        const known = new Set([...declared, ...declared.map((k) => `${k}_FILE`), ...sdk, 'NODE_OPTIONS']);
        const unknown = Object.keys(env).filter((k) => !known.has(k));
        expect(unknown, `${name}: variables its config does not declare`).toEqual([]);
        if (schema) {
          // The defaults this file interpolates must pass the service's own validation (zones, cross-field rules).
          expect(() => loadConfig(schema as never, env), name).not.toThrow();
        }
      }
    } finally {
      rmSync(secretsDir, { recursive: true, force: true });
    }
  });

  it("publishes each service's health port on loopback, and gives it longer to stop than its shutdown deadline", async () => {
    for (const [name, svc, service] of gridstreamServices().filter(([, s]) => !isJob(s))) {
      const schema = await serviceSchema(service);
      const healthPort = schema.shape.HEALTH_PORT!.parse(undefined) as number;
      expect(
        svc.ports?.map((p) => p.target),
        name,
      ).toContain(healthPort);
      const shutdownMs = schema.shape.SHUTDOWN_TIMEOUT_MS!.parse(undefined) as number;
      expect(durationMs(svc.stop_grace_period ?? '10s'), `${name} stop_grace_period`).toBeGreaterThan(
        shutdownMs,
      );
    }
    for (const [name, svc] of Object.entries(resolved.services)) {
      for (const port of svc.ports ?? []) expect(port.host_ip, `${name}:${port.target}`).toBe('127.0.0.1');
    }
  });

  it("keeps the servers' data (Kafka, RabbitMQ, InfluxDB, PostgreSQL, VictoriaMetrics …) in named volumes", () => {
    const mounts = (svc: string) =>
      (resolved.services[svc]?.volumes ?? []).filter((v) => v.type === 'volume').map((v) => v.target);
    expect(mounts('kafka')).toContain('/var/lib/kafka/data');
    expect(resolved.services.kafka?.environment?.KAFKA_LOG_DIRS).toBe('/var/lib/kafka/data');
    expect(mounts('rabbitmq')).toContain('/var/lib/rabbitmq');
    expect(mounts('influxdb')).toContain('/var/lib/influxdb');
    expect(mounts('grafana')).toContain('/var/lib/grafana');
    expect(mounts('minio')).toContain('/data');
    expect(mounts('postgres')).toContain('/var/lib/postgresql/data');
    expect(mounts('victoriametrics')).toContain('/victoria-metrics-data');
    expect(resolved.services.victoriametrics?.command).toContain('-storageDataPath=/victoria-metrics-data');
    expect(resolved.services.kafka?.environment?.KAFKA_AUTO_CREATE_TOPICS_ENABLE).toBe('false');
  });
});

/** The host file a collector's config variable names: relative to /app, inside the mounted sample/ folder. */
function composeConfigFile(name: string, key: string): string {
  const svc = resolved.services[name]!;
  const path = String(svc.environment?.[key]);
  const mount = svc.volumes?.find((v) => v.type === 'bind' && `/app/${path}`.startsWith(`${v.target}/`));
  expect(mount, `${name}: ${key}=${path} is in a mounted folder`).toBeDefined();
  const onHost = join(mount!.source!, `/app/${path}`.slice(mount!.target.length));
  expect(statSync(onHost).isFile(), onHost).toBe(true);
  return onHost;
}

/** `| `name` | ... |` rows of README.md's Docker section, by the name in their first cell. */
function readmeDockerRows(): Map<string, string> {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const start = readme.search(/^## Docker\b/m);
  expect(start, 'README.md has a "## Docker" section').toBeGreaterThanOrEqual(0);
  const rest = readme.slice(start + 1);
  const end = rest.search(/^## /m);
  const section = end < 0 ? rest : rest.slice(0, end);
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const first = /^\|\s*`([^`]+)`/.exec(line);
    if (first) rows.set(first[1]!, line);
  }
  return rows;
}

describe('docker-compose.yml: the complete stack', () => {
  it('runs every service in services/, Grafana, MinIO and the setup jobs', () => {
    const built = new Set(gridstreamServices().map(([, , service]) => service));
    for (const dir of readdirSync(join(root, 'services'))) {
      if (!existsSync(join(root, 'services', dir, 'package.json'))) continue;
      expect(built.has(dir), `services/${dir} is built and run by docker-compose.yml`).toBe(true);
    }
    for (const name of [
      'kafka',
      'rabbitmq',
      'influxdb',
      'grafana',
      'minio',
      'topics',
      'minio-init',
      'influxdb-init',
    ])
      expect(Object.keys(resolved.services), name).toContain(name);
  });

  it('runs the optional sinks and their servers only with the profile `sinks`, each writer on its own server', () => {
    const profiled = Object.entries(resolved.services).filter(([, svc]) => (svc.profiles ?? []).length > 0);
    expect(profiled.map(([name]) => name).sort()).toEqual([...PROFILED].sort());
    for (const [profile, names] of Object.entries(PROFILES))
      for (const name of names) expect(resolved.services[name]?.profiles, name).toEqual([profile]);
    // A plain `docker compose up` runs exactly the services without a profile, and none of them waits for
    // one that is off (Compose would refuse to start it).
    expect(Object.keys(plain.services).sort()).toEqual(
      Object.keys(resolved.services)
        .filter((name) => !PROFILED.includes(name))
        .sort(),
    );
    for (const [name, svc] of Object.entries(plain.services))
      for (const dep of Object.keys(svc.depends_on ?? {}))
        expect(PROFILED, `${name} waits for ${dep}`).not.toContain(dep);

    const tsw = resolved.services['timescale-writer']!;
    const pg = resolved.services.postgres!;
    expect(pg.image).toMatch(/^timescale\/timescaledb:\d+\.\d+\.\d+-pg\d+$/);
    expect(tsw.environment?.PG_HOST).toBe('postgres');
    expect(tsw.depends_on?.postgres?.condition).toBe('service_healthy');
    // The server's user and database are the writer's, and both read the password from one secret.
    expect(tsw.environment?.PG_USER).toBe(pg.environment?.POSTGRES_USER);
    expect(tsw.environment?.PG_DATABASE).toBe(pg.environment?.POSTGRES_DB);
    const secretFile = (svc: ComposeService, source: string) =>
      svc.secrets?.find((s) => s.source === source)?.target;
    expect(tsw.environment?.PG_PASSWORD_FILE).toBe(secretFile(tsw, 'pg_password'));
    expect(pg.environment?.POSTGRES_PASSWORD_FILE).toBe(secretFile(pg, 'pg_password'));
    expect(resolved.secrets?.pg_password?.environment).toBe('PG_PASSWORD');

    const otw = resolved.services['opentsdb-writer']!;
    const vm = resolved.services.victoriametrics!;
    expect(otw.environment?.OPENTSDB_URL).toBe('http://victoriametrics:4242');
    expect(otw.depends_on?.victoriametrics?.condition).toBe('service_healthy');
    // docs/opentsdb-writer.md: a rewritten datapoint stored once, and old readings not dropped.
    expect(vm.command).toEqual(
      expect.arrayContaining([
        '-opentsdbHTTPListenAddr=:4242',
        '-dedup.minScrapeInterval=1ms',
        '-retentionPeriod=100y',
      ]),
    );
  });

  it('gives every container a health check unless it is a one-shot job, and conditions on every depends_on', () => {
    for (const [name, svc] of Object.entries(resolved.services)) {
      if (!isJob(svc)) {
        expect(svc.healthcheck?.test?.length, `${name} healthcheck`).toBeGreaterThan(0);
        expect(svc.healthcheck?.disable, `${name} healthcheck disabled`).not.toBe(true);
      }
      for (const [dep, { condition }] of Object.entries(svc.depends_on ?? {}))
        expect(['service_healthy', 'service_completed_successfully'], `${name} -> ${dep}`).toContain(
          condition,
        );
    }
  });

  it('pushes every gridstream service’s metrics into the InfluxDB database the init job creates', () => {
    const init = (resolved.services['influxdb-init']?.command ?? []).join(' ');
    const writer = resolved.services['influx-writer']?.environment ?? {};
    expect(init).toContain(`CREATE DATABASE ${writer.INFLUX_DATABASE}`);
    for (const [name, svc] of gridstreamServices().filter(([, s]) => !isJob(s))) {
      expect(svc.environment?.METRICS_INFLUX_URL, name).toBe('http://influxdb:8086');
      const db = svc.environment?.METRICS_INFLUX_DB;
      expect(db, name).toBeTruthy();
      expect(init, `${name}: its metrics database is created`).toContain(`CREATE DATABASE ${db}`);
      expect(svc.depends_on?.['influxdb-init']?.condition, name).toBe('service_completed_successfully');
    }
  });

  it('archives into the MinIO bucket that the minio-init job creates, path style', () => {
    const init = resolved.services['minio-init']!;
    expect(init.entrypoint?.join(' ')).toContain('mc mb --ignore-existing');
    expect(init.depends_on?.minio?.condition).toBe('service_healthy');
    for (const name of ['archiver', 'console']) {
      const env = resolved.services[name]?.environment ?? {};
      expect(env.ARCHIVE_S3_BUCKET, name).toBe(init.environment?.ARCHIVE_S3_BUCKET);
      expect(env.ARCHIVE_S3_ENDPOINT, name).toBe('http://minio:9000');
      expect(env.ARCHIVE_S3_FORCE_PATH_STYLE, name).toBe('true');
      expect(resolved.services[name]?.depends_on?.['minio-init']?.condition, name).toBe(
        'service_completed_successfully',
      );
      // The SDK's key pair is MinIO's user: the same variables on both sides.
      expect(raw.services[name]?.environment?.AWS_ACCESS_KEY_ID, name).toBe(
        raw.services.minio?.environment?.MINIO_ROOT_USER,
      );
      expect(raw.services[name]?.environment?.AWS_SECRET_ACCESS_KEY, name).toBe(
        raw.services.minio?.environment?.MINIO_ROOT_PASSWORD,
      );
    }
  });

  it('provisions Grafana from files in the repository, mounted read-only, with no manual step', () => {
    const grafana = resolved.services.grafana!;
    const binds = new Map(
      (grafana.volumes ?? []).filter((v) => v.type === 'bind').map((v) => [v.target, v] as const),
    );
    const provisioning = binds.get('/etc/grafana/provisioning');
    const dashboards = binds.get('/var/lib/grafana/dashboards');
    expect(provisioning && relative(root, provisioning.source!)).toBe('deploy/grafana/provisioning');
    expect(dashboards && relative(root, dashboards.source!)).toBe('deploy/grafana/dashboards');
    expect(provisioning?.read_only, 'provisioning read-only').toBe(true);
    expect(dashboards?.read_only, 'dashboards read-only').toBe(true);
    for (const file of ['datasources/influxdb.yaml', 'dashboards/gridstream.yaml'])
      expect(existsSync(join(provisioning!.source!, file)), `deploy/grafana/provisioning/${file}`).toBe(true);
    for (const board of ['microgrid-overview', 'ess-site', 'pipeline-health'])
      expect(
        existsSync(join(dashboards!.source!, `${board}.json`)),
        `deploy/grafana/dashboards/${board}.json`,
      ).toBe(true);
    // The home dashboard is a path inside the container: it must be one of the mounted files.
    const home = String(grafana.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH ?? '');
    expect(home.startsWith('/var/lib/grafana/dashboards/'), home).toBe(true);
    expect(
      existsSync(join(dashboards!.source!, home.slice('/var/lib/grafana/dashboards/'.length))),
      home,
    ).toBe(true);
    // The datasources query this stack's InfluxDB, in databases the init job creates.
    const datasources = readFileSync(join(provisioning!.source!, 'datasources/influxdb.yaml'), 'utf8');
    const init = (resolved.services['influxdb-init']?.command ?? []).join(' ');
    for (const [, url] of datasources.matchAll(/^\s*url:\s*(\S+)/gm))
      expect(url).toBe('http://influxdb:8086');
    const dbNames = [...datasources.matchAll(/^\s*dbName:\s*(\S+)/gm)].map((m) => m[1]!);
    expect(dbNames.length).toBeGreaterThan(0);
    for (const db of dbNames) expect(init, `datasource database ${db}`).toContain(`CREATE DATABASE ${db}`);
    // The dashboard provider reads the folder this mount fills.
    expect(readFileSync(join(provisioning!.source!, 'dashboards/gridstream.yaml'), 'utf8')).toContain(
      '/var/lib/grafana/dashboards',
    );
    expect(grafana.environment?.GF_SECURITY_ADMIN_PASSWORD).toBeTruthy();
    expect(raw.services.grafana?.environment?.GF_SECURITY_ADMIN_PASSWORD).toMatch(/^\$\{[A-Z_]+:\?/);
  });

  it('mounts only files that exist, and the collector configs it names', () => {
    for (const [name, svc] of Object.entries(resolved.services)) {
      for (const v of svc.volumes ?? []) {
        if (v.type !== 'bind') continue;
        expect(existsSync(v.source!), `${name}: ${v.source}`).toBe(true);
        // Configuration goes in read-only: a service must not be able to rewrite what it runs with.
        expect(v.read_only, `${name}: ${v.source} read-only`).toBe(true);
      }
    }
    // The compose configs dial what they read by its Compose name, not loopback: the simulator's servers,
    // the MQTT broker; the serial collector reads the device its `devices:` entry maps into the container.
    for (const [name, key, dials] of [
      ['modbus-collector', 'MODBUS_CONFIG', /\bsimulator\b/],
      ['opcua-collector', 'OPCUA_CONFIG', /\bsimulator\b/],
      ['mqtt-collector', 'MQTT_CONFIG', /mqtt:\/\/mosquitto:1883\b/],
      ['serial-collector', 'SERIAL_CONFIG', /path: \/dev\//],
    ] as const) {
      const text = readFileSync(composeConfigFile(name, key), 'utf8');
      expect(text, name).not.toMatch(/127\.0\.0\.1|localhost/);
      expect(text, name).toMatch(dials);
    }
    expect(resolved.services.simulator?.hostname).toBe('simulator');
    expect(resolved.services.simulator?.environment?.SIM_OPCUA_HOST).toBe('simulator');
  });

  it('runs an MQTT broker that the simulator publishes to and the mqtt-collector reads, as its tests configure one', () => {
    const broker = resolved.services.mosquitto!;
    expect(broker.image).toMatch(/^eclipse-mosquitto:2\.0\.\d+$/);
    const conf = broker.volumes?.find((v) => v.target === '/mosquitto/config/mosquitto.conf');
    expect(conf && relative(root, conf.source!)).toBe('deploy/mosquitto/mosquitto.conf');
    expect(
      broker.volumes?.find((v) => v.target === '/mosquitto/data'),
      'data on a named volume',
    ).toMatchObject({ type: 'volume' });
    const text = readFileSync(conf!.source!, 'utf8');
    const settings = new Map<string, string[]>();
    for (const line of text.split('\n').filter((l) => /^\s*[a-z_]/.test(l))) {
      const [key, ...rest] = line.trim().split(/\s+/);
      settings.set(key!, [...(settings.get(key!) ?? []), rest.join(' ')]);
    }
    // Mosquitto 2 listens on nothing and refuses anonymous clients without these two.
    expect(settings.get('listener')).toEqual(['1883']);
    expect(settings.get('allow_anonymous')).toEqual(['true']);
    // docs/mqtt-collector.md: sessions and queued QoS 1 messages survive a broker restart, on the volume.
    expect(settings.get('persistence')).toEqual(['true']);
    expect(settings.get('persistence_location')).toEqual(['/mosquitto/data/']);
    expect(Number(settings.get('max_queued_messages')?.[0])).toBeGreaterThan(1_000);
    // No credentials in the repository: no password file, no users.
    for (const key of ['password_file', 'acl_file', 'psk_file']) expect(settings.has(key), key).toBe(false);
    expect(broker.healthcheck?.test?.join(' ')).toContain('mosquitto_pub');

    const sim = resolved.services.simulator!;
    const collector = resolved.services['mqtt-collector']!;
    expect(sim.environment?.SIM_MQTT_URL).toBe('mqtt://mosquitto:1883');
    for (const [name, svc] of [
      ['simulator', sim],
      ['mqtt-collector', collector],
    ] as const)
      expect(svc.depends_on?.mosquitto?.condition, name).toBe('service_healthy');
    const brokers = [
      ...readFileSync(composeConfigFile('mqtt-collector', 'MQTT_CONFIG'), 'utf8').matchAll(/url: (\S+)/g),
    ].map((m) => m[1]);
    expect(brokers).toEqual([sim.environment?.SIM_MQTT_URL]);
    // Its spool outlives the container: a QoS 1 message is acknowledged to the broker once spooled.
    expect(collector.volumes?.find((v) => v.target === '/app/.local')).toMatchObject({ type: 'volume' });
    expect(String(resolved.services.console?.environment?.CONSOLE_SERVICES).split(',')).toContain(
      'mqtt-collector=http://mqtt-collector:9113',
    );
  });

  it('gives the serial collector each port its config reads as a device, and the group that may open it', () => {
    const svc = resolved.services['serial-collector']!;
    const devices = svc.devices ?? [];
    expect(devices.length).toBeGreaterThan(0);
    // Compose's own form of "${SERIAL_DEVICE:-/dev/ttyUSB0}:/dev/ttyUSB0": the host's adapter by default.
    expect(devices[0]).toMatchObject({ source: '/dev/ttyUSB0', target: '/dev/ttyUSB0' });
    const paths = [
      ...readFileSync(composeConfigFile('serial-collector', 'SERIAL_CONFIG'), 'utf8').matchAll(
        /^\s*path: (\S+)/gm,
      ),
    ].map((m) => m[1]);
    expect(paths.length).toBeGreaterThan(0);
    for (const path of paths)
      expect(
        devices.map((d) => d.target),
        `${path} is a device of the container`,
      ).toContain(path);
    // Opened through the device's group (dialout), never as root or privileged.
    expect(svc.group_add).toEqual(['20']);
    expect(raw.services['serial-collector']?.group_add).toEqual([`\${SERIAL_DEVICE_GID:-20}`]);
    expect(svc.volumes?.find((v) => v.target === '/app/.local')).toMatchObject({ type: 'volume' });
    expect(JSON.stringify(svc)).not.toMatch(/privileged|cap_add/);
  });

  it('has no password without a .env: Compose refuses the file, naming each one .env.example leaves empty', async () => {
    const example = readFileSync(join(root, '.env.example'), 'utf8');
    const required = [...example.matchAll(/^([A-Z][A-Z0-9_]*)=$/gm)].map((m) => m[1]!);
    expect(required).toEqual(
      expect.arrayContaining([
        'AMQP_PASSWORD',
        'GRAFANA_ADMIN_PASSWORD',
        'MINIO_ROOT_PASSWORD',
        'CONSOLE_PASSWORD',
      ]),
    );
    // Every other assignment in the example is commented out or empty: no value to copy by mistake.
    expect(example.match(/^[A-Z][A-Z0-9_]*=.+$/gm) ?? []).toEqual([]);
    const refusal = await validatorOutput(['compose', 'config', '--quiet'], {
      GS_COMPOSE_NO_PLACEHOLDERS: '1',
    }).then(
      () => '',
      (e: { stderr?: string }) => e.stderr ?? 'failed',
    );
    for (const name of required)
      expect(refusal, name).toContain(`required variable ${name} is missing a value`);
    // .env holds the real values: git must never see it, nor the image build.
    expect(readFileSync(join(root, '.gitignore'), 'utf8')).toMatch(/^\.env$/m);
    expect(readFileSync(join(root, '.dockerignore'), 'utf8')).toMatch(/^\.env$/m);
  });

  it("documents every container's image, ports and volumes in README.md's Docker table", () => {
    const rows = readmeDockerRows();
    for (const [name, svc] of Object.entries(resolved.services)) {
      const row = rows.get(name);
      expect(row, `README.md Docker table: a row for ${name}`).toBeDefined();
      expect(row, `${name}: image`).toContain(`\`${svc.image}\``);
      for (const port of svc.ports ?? []) {
        expect(row, `${name}: published port ${port.published}`).toContain(String(port.published));
        expect(row, `${name}: container port ${port.target}`).toContain(String(port.target));
      }
      for (const v of svc.volumes ?? []) {
        const what = v.type === 'volume' ? v.source! : relative(root, v.source!);
        expect(row, `${name}: volume ${what}`).toContain(`\`${what}\``);
        expect(row, `${name}: volume target ${v.target}`).toContain(`\`${v.target}\``);
      }
    }
    for (const volume of Object.keys(resolved.volumes ?? {}))
      expect(
        [...rows.values()].some((row) => row.includes(`\`${volume}\``)),
        `volume ${volume}`,
      ).toBe(true);
  });
});

describe('deploy/docker/Dockerfile', () => {
  const text = readFileSync(dockerfilePath, 'utf8');
  const df = parseDockerfile(text);

  it('runs as a non-root user and declares a HEALTHCHECK', () => {
    expect(text).toMatch(/^USER (?!root\b|0\b)\S+/m);
    expect(text).toMatch(/^HEALTHCHECK .*CMD /m);
  });

  it('has a svc-<SERVICE> stage on top of the runtime stage for every image compose uses', () => {
    expectSelectsServiceStages(df);
  });

  it('pulls only a Node image pinned to an exact version (no latest, no untagged, no floating tag)', () => {
    expectPinnedBases(df);
  });

  it('runs every image as the non-root user node', () => {
    expectNonRootUser(df);
  });

  it('starts node in exec form, so it is PID 1 and gets SIGTERM', () => {
    expectExecFormCmd(df);
  });

  it("probes /healthz/ready on the port the service's schema defaults to", async () => {
    expectHealthProbes(df);
    await expectHealthPorts(df);
    expect(readFileSync(join(root, 'deploy/docker/healthcheck.mjs'), 'utf8')).toContain('/healthz/ready');
  });
});

describe('the Dockerfile checks fail on a broken copy of the Dockerfile', () => {
  // Each mutation breaks one rule in a temporary copy; the check for that rule must then fail, and say why.
  const mutations: [string, (text: string) => string, (df: Dockerfile) => void | Promise<void>, RegExp][] = [
    [
      'a floating base tag',
      (t) => t.replace('ARG NODE_IMAGE=node:22.23.3-alpine', 'ARG NODE_IMAGE=node:22-alpine'),
      expectPinnedBases,
      /node:22-alpine: exact version tag/,
    ],
    [
      'latest, spread over a continuation line',
      (t) => t.replace('ARG NODE_IMAGE=node:22.23.3-alpine', 'ARG NODE_IMAGE=node:\\\n# a comment\nlatest'),
      expectPinnedBases,
      /node:latest: exact version tag/,
    ],
    [
      'an untagged image in COPY --from',
      (t) => t.replace('COPY --from=build /out/ ./', 'COPY --from=node /out/ ./'),
      expectPinnedBases,
      /: node: exact version tag/,
    ],
    ['USER root', (t) => t.replace('\nUSER node\n', '\nUSER root\n'), expectNonRootUser, /USER/],
    ['no USER', (t) => t.replace('\nUSER node\n', '\n'), expectNonRootUser, /USER/],
    [
      'USER root behind a continuation and a comment',
      (t) => t.replace('\nUSER node\n', '\nUSER \\\n# the user\n  root\n'),
      expectNonRootUser,
      /USER/,
    ],
    [
      'a shell-form CMD',
      (t) =>
        t.replace('CMD ["node", "services/parser/dist/main.js"]', 'CMD node services/parser/dist/main.js'),
      expectExecFormCmd,
      /SERVICE=parser: CMD in exec form/,
    ],
    [
      'no HEALTHCHECK',
      (t) => t.replace(/^HEALTHCHECK --interval.*\n/m, ''),
      expectHealthProbes,
      /SERVICE=\S+: HEALTHCHECK/,
    ],
    [
      'an EXPOSE that differs from the schema',
      (t) => t.replace('EXPOSE 9103', 'EXPOSE 9100'),
      expectHealthPorts,
      /SERVICE=influx-writer: EXPOSE/,
    ],
    [
      'a HEALTH_PORT that differs from the schema',
      (t) => t.replace('ENV HEALTH_PORT=9101', 'ENV HEALTH_PORT=9100'),
      expectHealthPorts,
      /SERVICE=bridge: ENV HEALTH_PORT/,
    ],
    [
      'a missing svc-<SERVICE> stage',
      (t) => t.replace('FROM runtime AS svc-simulator', 'FROM runtime AS svc-simulater'),
      expectSelectsServiceStages,
      /SERVICE=simulator builds through stages/,
    ],
  ];

  it.each(mutations)('%s', async (_, mutate, check, reason) => {
    const original = readFileSync(dockerfilePath, 'utf8');
    const mutated = mutate(original);
    expect(mutated, 'the mutation changed the Dockerfile').not.toBe(original);
    const dir = mkdtempSync(join(tmpdir(), 'gridstream-dockerfile-'));
    try {
      const copy = join(dir, 'Dockerfile');
      writeFileSync(copy, mutated);
      await expect((async () => check(readDockerfile(copy)))()).rejects.toThrow(reason);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // The real file is untouched, and passes the same check.
    expect(readFileSync(dockerfilePath, 'utf8')).toBe(original);
    await check(readDockerfile(dockerfilePath));
  });
});
