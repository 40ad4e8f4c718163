import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, realpath, rename, rm, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** File types the import page takes (the importer reads CSV and XLSX; TSV/TXT are CSV variants). */
export const IMPORT_EXTENSIONS = ['.csv', '.xlsx', '.tsv', '.txt'] as const;

export class ImportPathError extends Error {
  override name = 'ImportPathError';
}

/**
 * A file name chosen on the page must name a file directly inside the import folder: no separators, no
 * `..`, no hidden files, no control characters. Anything else is refused outright rather than
 * "cleaned", so a crafted name can never reach another file.
 */
export function checkImportName(name: string): string {
  if (
    name.length === 0 ||
    name.length > 255 ||
    name.includes('/') ||
    name.includes('\\') ||
    name.startsWith('.') ||
    name.includes('..') ||
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the regex exists to refuse control characters
    /[\u0000-\u001f\u007f]/.test(name)
  ) {
    throw new ImportPathError(`"${name}" is not a file name in the import folder`);
  }
  const lower = name.toLowerCase();
  if (!IMPORT_EXTENSIONS.some((ext) => lower.endsWith(ext)))
    throw new ImportPathError(`"${name}" is not a ${IMPORT_EXTENSIONS.join(', ')} file`);
  return name;
}

/** True when `child` is `dir` itself or inside it (after resolving `..`). */
export function isInside(dir: string, child: string): boolean {
  const rel = relative(resolve(dir), resolve(child));
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * The absolute path of a file in the import folder, refusing names that escape it — also through a
 * symbolic link placed in the folder, which is resolved before the check.
 */
export async function resolveImportFile(dir: string, name: string): Promise<string> {
  checkImportName(name);
  const root = await realpath(dir);
  const candidate = join(root, name);
  const real = await realpath(candidate).catch(() => {
    throw new ImportPathError(`no file "${name}" in the import folder`);
  });
  if (!isInside(root, real) || real === root)
    throw new ImportPathError(`"${name}" points outside the import folder`);
  const info = await stat(real);
  if (!info.isFile()) throw new ImportPathError(`"${name}" is not a regular file`);
  return real;
}

/**
 * The name an upload is stored under: generated (time + random), with only a cleaned-up copy of the
 * client's base name for recognition. The client's path is never used as a path.
 */
export function uploadName(clientName: string | undefined, now = new Date()): string {
  const base = (clientName ?? '').split(/[\\/]/).pop() ?? '';
  const lower = base.toLowerCase();
  const ext = IMPORT_EXTENSIONS.find((e) => lower.endsWith(e));
  if (ext === undefined)
    throw new ImportPathError(`only ${IMPORT_EXTENSIONS.join(', ')} files can be imported`);
  const stem = base
    .slice(0, base.length - ext.length)
    .replace(/[^A-Za-z0-9_-]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 60);
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return `${stamp}-${randomBytes(4).toString('hex')}${stem ? `-${stem}` : ''}${ext}`;
}

export interface ImportFileInfo {
  name: string;
  size: number;
  modified: string;
}

export async function listImportFolder(dir: string): Promise<ImportFileInfo[]> {
  await mkdir(dir, { recursive: true });
  const out: ImportFileInfo[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    try {
      checkImportName(entry.name);
    } catch {
      continue;
    }
    const info = await stat(join(dir, entry.name));
    out.push({ name: entry.name, size: info.size, modified: info.mtime.toISOString() });
  }
  return out.sort((a, b) => b.modified.localeCompare(a.modified));
}

export class UploadTooLargeError extends Error {
  override name = 'UploadTooLargeError';
}

/**
 * Streams an upload to disk under a generated name: first to a hidden `.part` file, renamed once
 * complete, so a half-written upload is never offered for import. Over the limit, the partial file is
 * removed and the upload refused.
 */
export async function saveUpload(
  dir: string,
  clientName: string | undefined,
  stream: Readable & { truncated?: boolean },
  maxBytes: number,
): Promise<ImportFileInfo> {
  await mkdir(dir, { recursive: true });
  const name = uploadName(clientName);
  const part = join(dir, `.${name}.part`);
  try {
    await pipeline(stream, createWriteStream(part, { flags: 'wx' }));
    if (stream.truncated)
      throw new UploadTooLargeError(`the file is larger than the limit of ${maxBytes} bytes`);
    await rename(part, join(dir, name));
  } catch (error) {
    await rm(part, { force: true });
    throw error;
  }
  const info = await stat(join(dir, name));
  return { name, size: info.size, modified: info.mtime.toISOString() };
}
