import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { assertObjectKey, type ObjectInfo, type ObjectStore } from './object-store.js';

/** Temp files live beside their target (a rename within one folder is atomic); listings skip them. */
const TEMP_MARK = '.tmp-';

/**
 * The archive in a local directory (the default: the demo needs no cloud). Same contract as S3: a put is
 * atomic (written to a temp file in the target folder, flushed to disk, renamed over the target) so a
 * reader or a crash never sees half a file; a key can never address anything outside the directory.
 */
export class LocalObjectStore implements ObjectStore {
  readonly kind = 'local' as const;
  readonly root: string;
  readonly location: string;

  constructor(dir: string) {
    this.root = resolve(dir);
    this.location = `${this.root}${sep}`;
  }

  async ensureReady(): Promise<void> {
    await mkdir(this.root, { recursive: true });
  }

  /** Absolute path of a key, refused when it would leave the root (belt and braces after assertObjectKey). */
  pathOf(key: string): string {
    assertObjectKey(key);
    const path = resolve(this.root, ...key.split('/'));
    if (!path.startsWith(this.location))
      throw new Error(`object key ${JSON.stringify(key)} escapes ${this.root}`);
    return path;
  }

  async putFile(key: string, path: string): Promise<void> {
    await this.atomically(key, (temp) => copyFile(path, temp));
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    await this.atomically(key, (temp) => writeFile(temp, body));
  }

  async get(key: string): Promise<Buffer> {
    return readFile(this.pathOf(key));
  }

  async getToFile(key: string, path: string): Promise<void> {
    const temp = `${path}${TEMP_MARK}${randomBytes(4).toString('hex')}`;
    await mkdir(dirname(path), { recursive: true });
    try {
      await copyFile(this.pathOf(key), temp);
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    await this.walk(this.root, prefix, out);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const s = await stat(this.pathOf(key));
      return s.isFile() ? { key, size: s.size, lastModified: s.mtime } : undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  close(): void {}

  private async atomically(key: string, write: (temp: string) => Promise<void>): Promise<void> {
    const target = this.pathOf(key);
    await mkdir(dirname(target), { recursive: true });
    const temp = join(
      dirname(target),
      `.${randomBytes(6).toString('hex')}${TEMP_MARK}${key.split('/').pop()}`,
    );
    try {
      await write(temp);
      // Flushed before the rename: after a power cut the name must not point at missing bytes (the
      // archiver commits Kafka offsets as soon as this returns).
      const handle = await open(temp, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, target);
      const folder = await open(dirname(target), 'r');
      try {
        await folder.sync();
      } finally {
        await folder.close();
      }
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  /** Depth-first walk that only enters folders that can hold keys with the prefix. */
  private async walk(dir: string, prefix: string, out: ObjectInfo[]): Promise<void> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const entry of entries) {
      // Dot names are temp files of puts in progress (or of ones a crash interrupted).
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      const key = relative(this.root, path).split(sep).join('/');
      if (entry.isDirectory()) {
        if (`${key}/`.startsWith(prefix) || prefix.startsWith(`${key}/`)) await this.walk(path, prefix, out);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        const s = await stat(path);
        out.push({ key, size: s.size, lastModified: s.mtime });
      }
    }
  }
}
