import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

/**
 * Shared by the archive tests: the moto server (S3 emulator, deploy/local/moto.sh) and pyarrow, the
 * independent Parquet reader, both from the project's venv (.local/venv, made by deploy/local/python.sh).
 */
const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');
export const MOTO_SH = resolve(ROOT, 'deploy/local/moto.sh');
export const MOTO_URL = process.env.MOTO_URL ?? 'http://127.0.0.1:5055';
const VENV_PYTHON = resolve(process.env.GRIDSTREAM_HOME ?? resolve(ROOT, '.local'), 'venv/bin/python');
const READ_PARQUET = resolve(ROOT, 'test/peers/read_parquet.py');

/** moto accepts any credentials, but the SDK signs every request and needs some. */
export function useMotoCredentials(): void {
  process.env.AWS_ACCESS_KEY_ID ??= 'testing';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';
}

export async function motoAnswers(url = MOTO_URL): Promise<boolean> {
  try {
    // S3 ListBuckets (moto's dashboard JSON answers 500 once Glue/Athena state is in memory).
    const res = await fetch(`${url}/`, { signal: AbortSignal.timeout(10_000) });
    return res.ok && (await res.text()).includes('ListAllMyBucketsResult');
  } catch {
    return false;
  }
}

/**
 * Fails with the command to run when the shared moto server is not up (`deploy/local/infra.sh up test`).
 * Asks a few times: on a loaded machine a single first request has been seen to fail while moto was fine.
 */
export async function requireMoto(url = MOTO_URL): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await motoAnswers(url)) return;
    await new Promise((r) => setTimeout(r, 1_000));
  }
  throw new Error(
    `moto is not answering on ${url}; start it with deploy/local/moto.sh start && deploy/local/moto.sh wait`,
  );
}

/** Runs deploy/local/moto.sh for a private instance (own port and pid file) so a test may stop it. */
export async function motoInstance(
  command: 'install' | 'start' | 'stop' | 'wait' | 'status',
  instance: string,
  port: number,
): Promise<void> {
  await run(MOTO_SH, [command], {
    timeout: 120_000,
    env: { ...process.env, MOTO_INSTANCE: instance, MOTO_PORT: String(port) },
  });
}

export interface PyarrowColumn {
  name: string;
  type: string;
  tz: string | null;
  unit: string | null;
  nullable: boolean;
}

export interface PyarrowFile {
  path: string;
  rows: number;
  schema: PyarrowColumn[];
  parquet: { name: string; physical: string; logical: string; compression: string }[];
}

/** [ts_ms, site, equipment, device, rack, field, value, is_flag, quality, kafka_partition, kafka_offset] */
export type PyarrowRow = [
  number,
  string,
  string,
  string,
  string | null,
  string,
  number,
  boolean,
  string | null,
  number,
  number,
];

/** Reads Parquet files with pyarrow (test/peers/read_parquet.py). */
export async function readParquetWithPyarrow(
  paths: string[],
  { rows = true } = {},
): Promise<{ files: PyarrowFile[]; rows: PyarrowRow[] }> {
  if (!existsSync(VENV_PYTHON)) {
    throw new Error(`no venv python at ${VENV_PYTHON}; run deploy/local/moto.sh install (installs pyarrow)`);
  }
  const out: { files: PyarrowFile[]; rows: PyarrowRow[] } = { files: [], rows: [] };
  // Batches keep the command line short however many files there are.
  for (let i = 0; i < paths.length; i += 200) {
    const args = [READ_PARQUET, ...(rows ? [] : ['--no-rows']), ...paths.slice(i, i + 200)];
    let stdout: string;
    try {
      ({ stdout } = await run(VENV_PYTHON, args, { maxBuffer: 512 * 1024 * 1024, timeout: 120_000 }));
    } catch (error) {
      // The command line lists every file; the reader's own complaint is what matters.
      throw new Error(
        `read_parquet.py failed: ${(error as { stderr?: string }).stderr ?? (error as Error).message}`,
      );
    }
    const part = JSON.parse(stdout) as { files: PyarrowFile[]; rows: PyarrowRow[] };
    out.files.push(...part.files);
    for (const row of part.rows) out.rows.push(row);
  }
  return out;
}

/** A row as the tests compare them: ts_ms, strings, value, flag, quality, partition, offset as numbers. */
export type ComparableRow = PyarrowRow;

/**
 * Sort key that makes two row lists comparable element by element. The rows of one Kafka offset may come
 * from several records (a parsed message of format v2 carries several), hence the record's identity
 * (equipment, device, rack, time) before the field.
 */
export function sortRows(rows: ComparableRow[]): ComparableRow[] {
  const key = (r: ComparableRow) =>
    `${String(r[9]).padStart(5, '0')}|${String(r[10]).padStart(20, '0')}|${r[2]}|${r[3]}|${r[4] ?? ''}|${String(r[0]).padStart(15, '0')}|${r[7] ? 1 : 0}|${r[5]}`;
  return [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/**
 * Rows per (partition, offset): exactly the value count of each message's records (one record for format
 * v1, several for v2) means no loss and no duplicate.
 */
export function countByPosition(rows: ComparableRow[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(`${r[9]}:${r[10]}`, (counts.get(`${r[9]}:${r[10]}`) ?? 0) + 1);
  return counts;
}
