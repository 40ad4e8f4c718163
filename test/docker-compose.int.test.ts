import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
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
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string | number | null>;
  ports?: { target: number; published?: string; host_ip?: string }[];
  stop_grace_period?: string;
  volumes?: { type: string; source?: string; target: string }[];
}
interface ComposeModel {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
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

async function validatorOutput(args: string[]): Promise<string> {
  return (await run(validator, args, { env: cleanEnv, maxBuffer: 32 * 1024 * 1024 })).stdout;
}

async function composeModel(extra: string[] = []): Promise<ComposeModel> {
  return JSON.parse(
    await validatorOutput(['compose', 'config', '--format', 'json', ...extra]),
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

const VARIABLE_REFERENCE = /^\$\{[A-Z0-9_]+(:?[-?][^}]*)?\}$/;
const SECRET_NAME = /PASS|SECRET|TOKEN|CREDENTIAL|PRIVATE_KEY/i;

let validation: { code: number; output: string };
let resolved: ComposeModel;
let raw: ComposeModel;

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
    const healthPort = (await serviceSchema(service)).shape.HEALTH_PORT!.parse(undefined) as number;
    expect(image.env.HEALTH_PORT, `SERVICE=${service}: ENV HEALTH_PORT`).toBe(String(healthPort));
    expect(image.env.HEALTH_HOST, `SERVICE=${service}: ENV HEALTH_HOST`).toBe('0.0.0.0');
    expect(image.env.NODE_ENV, `SERVICE=${service}: ENV NODE_ENV`).toBe('production');
    expect(image.exposedPorts, `SERVICE=${service}: EXPOSE`).toEqual([`${healthPort}/tcp`]);
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
      if (!svc.build) expect(tag, `${name}: ${image} names a version`).toMatch(/^\d+(\.\d+)+/);
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
    // The broker's user and the clients' come from the same variables, or every connection is refused.
    const rabbit = raw.services.rabbitmq?.environment ?? {};
    for (const client of ['bridge', 'simulator']) {
      const env = raw.services[client]?.environment ?? {};
      expect(env.AMQP_USERNAME, client).toBe(rabbit.RABBITMQ_DEFAULT_USER);
      expect(env.AMQP_PASSWORD, client).toBe(rabbit.RABBITMQ_DEFAULT_PASS);
    }
  });

  it("sets only variables that the service's config schema declares, with values it accepts", async () => {
    for (const [name, svc, service] of gridstreamServices()) {
      const env = Object.fromEntries(
        Object.entries(svc.environment ?? {}).flatMap(([k, v]) => (v === null ? [] : [[k, String(v)]])),
      ) as Record<string, string>;
      // The CLI's topics command reads the Kafka variables (and nothing a service image adds).
      const schema = service === 'cli' ? undefined : await serviceSchema(service);
      const declared = Object.keys(schema ? schema.shape : kafkaEnvShape);
      // loadConfig also accepts <NAME>_FILE (a mounted secret) for every declared NAME.
      const known = new Set([...declared, ...declared.map((k) => `${k}_FILE`)]);
      const unknown = Object.keys(env).filter((k) => !known.has(k));
      expect(unknown, `${name}: variables its config does not declare`).toEqual([]);
      if (schema) {
        // The defaults this file interpolates must pass the service's own validation (zones, cross-field rules).
        expect(() => loadConfig(schema as never, env), name).not.toThrow();
      }
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

  it('keeps Kafka, RabbitMQ and InfluxDB data in named volumes', () => {
    const mounts = (svc: string) =>
      (resolved.services[svc]?.volumes ?? []).filter((v) => v.type === 'volume').map((v) => v.target);
    expect(mounts('kafka')).toContain('/var/lib/kafka/data');
    expect(resolved.services.kafka?.environment?.KAFKA_LOG_DIRS).toBe('/var/lib/kafka/data');
    expect(mounts('rabbitmq')).toContain('/var/lib/rabbitmq');
    expect(mounts('influxdb')).toContain('/var/lib/influxdb');
    expect(resolved.services.kafka?.environment?.KAFKA_AUTO_CREATE_TOPICS_ENABLE).toBe('false');
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
