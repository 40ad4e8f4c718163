import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const REPO_ROOT = resolve(import.meta.dirname, '../../..');
const SCRIPT = join(REPO_ROOT, 'test/peers/asyncua_server.py');
/** The project venv that deploy/local/asyncua.sh installs asyncua into. */
export const ASYNCUA_PYTHON = process.env.ASYNCUA_PYTHON ?? join(REPO_ROOT, '.local/venv/bin/python');

export interface AsyncuaWrite {
  /** `Battery01/SOC`, … (see the script's address space). */
  path: string;
  value: number | boolean | null;
  /** ISO source timestamp; null sends none (the server timestamp must then carry the time). */
  source: string | null;
  /** ISO server timestamp; default the source timestamp. */
  server?: string;
  /** asyncua StatusCodes name; default Good. */
  status?: string;
}

export interface AsyncuaPeer {
  url: string;
  namespaceUri: string;
  write(command: AsyncuaWrite): Promise<void>;
  output(): string;
  stop(): Promise<void>;
}

/** Starts test/peers/asyncua_server.py and resolves once it accepts connections. */
export async function startAsyncuaPeer(port: number, initialTs: string): Promise<AsyncuaPeer> {
  if (!existsSync(ASYNCUA_PYTHON)) {
    throw new Error(`no Python venv at ${ASYNCUA_PYTHON}: run deploy/local/asyncua.sh install`);
  }
  const child = spawn(ASYNCUA_PYTHON, [SCRIPT, '--port', String(port), '--initial-ts', initialTs], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (d: Buffer) => {
    log += d.toString();
  });
  const waiting: { resolve: (line: string) => void }[] = [];
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    log += `${line}\n`;
    waiting.shift()?.resolve(line);
  });
  const nextLine = (what: string, timeoutMs: number) =>
    new Promise<string>((resolveLine, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`asyncua peer: no ${what} within ${timeoutMs} ms\n${log.slice(-2_000)}`)),
        timeoutMs,
      );
      waiting.push({
        resolve: (line) => {
          clearTimeout(timer);
          resolveLine(line);
        },
      });
    });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.once('exit', (code) => {
    for (const w of waiting.splice(0)) w.resolve(`EXIT ${code}`);
  });

  const ready = await nextLine('READY line', 30_000);
  if (!ready.startsWith('READY'))
    throw new Error(`asyncua peer failed to start: ${ready}\n${log.slice(-2_000)}`);

  let chain = Promise.resolve();
  return {
    url: `opc.tcp://127.0.0.1:${port}/gridstream-test`,
    namespaceUri: 'urn:gridstream:test:asyncua',
    write(command) {
      // One command at a time: each answer belongs to the line just written.
      chain = chain.then(async () => {
        const answer = nextLine('answer', 10_000);
        child.stdin.write(`${JSON.stringify(command)}\n`);
        const line = await answer;
        if (!line.startsWith('OK'))
          throw new Error(`asyncua peer refused ${JSON.stringify(command)}: ${line}`);
      });
      return chain;
    },
    output: () => log,
    async stop() {
      child.stdin.end();
      const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(kill);
    },
  };
}
