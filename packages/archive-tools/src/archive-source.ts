import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LocalObjectStore, type ObjectInfo, type ObjectStore } from '@gridstream/archive';
import { type ArchiveFileInfo, parseArchiveKey } from './archive-keys.js';
import { utcDate } from './time-range.js';

/**
 * The archive as the readers see it: a listing of `dt=…/*.parquet` objects and local paths to them.
 * DuckDB here reads local files only (no httpfs), so an S3 archive is mirrored into a cache folder,
 * downloading only objects that are missing there or whose ETag changed.
 */

export interface ArchiveObject {
  /** Relative to the archive root: `dt=2024-03-01/<name>.parquet`. */
  key: string;
  size: number;
  etag?: string;
  info: ArchiveFileInfo;
}

/** Inclusive range of dt values (`YYYY-MM-DD`); either end open. */
export interface DtRange {
  from?: string;
  to?: string;
}

export interface ArchiveSource {
  readonly description: string;
  list(range?: DtRange): Promise<ArchiveObject[]>;
  /**
   * Local paths of the objects, in the same order; remote objects are fetched into the cache first, and
   * `onFetched` hears of each download (done of the ones that had to be fetched).
   */
  localPaths(
    objects: readonly ArchiveObject[],
    onFetched?: (done: number, toFetch: number) => void,
  ): Promise<string[]>;
}

interface CacheManifest {
  /** key → ETag of the cached copy. */
  etags: Record<string, string>;
}

const MANIFEST = '.gridstream-cache.json';
const DOWNLOAD_CONCURRENCY = 4;
/** A bounded range up to this many days is listed day by day; a longer or open one in one listing. */
const MAX_DAY_LISTINGS = 400;
const DAY_MS = 86_400_000;

/**
 * Reads through an archive ObjectStore (@gridstream/archive): a local store is read in place, an S3 store
 * through the cache folder `<cacheDir>/<bucket>/<prefix>` (one per archive, so two never share files).
 */
export class StoreArchiveSource implements ArchiveSource {
  readonly description: string;
  readonly cacheRoot: string | undefined;

  constructor(
    private readonly store: ObjectStore,
    cacheDir: string,
  ) {
    if (store instanceof LocalObjectStore) {
      this.cacheRoot = undefined;
      this.description = `local archive ${store.root}`;
    } else {
      this.cacheRoot = resolve(cacheDir, store.location.replace(/^s3:\/\//, ''));
      this.description = `${store.location} (cached in ${this.cacheRoot})`;
    }
  }

  async list(range?: DtRange): Promise<ArchiveObject[]> {
    const infos: ObjectInfo[] = [];
    const days = boundedDays(range);
    if (days === undefined) {
      infos.push(...(await this.store.list('dt=')));
    } else {
      for (const day of days) infos.push(...(await this.store.list(`dt=${day}/`)));
    }
    const out: ArchiveObject[] = [];
    for (const o of infos) {
      const info = parseArchiveKey(o.key);
      if (info === undefined) continue;
      if (range?.from !== undefined && info.dt < range.from) continue;
      if (range?.to !== undefined && info.dt > range.to) continue;
      out.push({ key: o.key, size: o.size, etag: o.etag, info });
    }
    return out;
  }

  async localPaths(
    objects: readonly ArchiveObject[],
    onFetched?: (done: number, toFetch: number) => void,
  ): Promise<string[]> {
    const store = this.store;
    if (store instanceof LocalObjectStore) return objects.map((o) => store.pathOf(o.key));
    const root = this.cacheRoot!;
    const manifest = await this.readManifest();
    const todo: ArchiveObject[] = [];
    for (const o of objects) if (!(await this.isCached(o, manifest))) todo.push(o);
    let next = 0;
    let done = 0;
    const worker = async () => {
      while (next < todo.length) {
        const o = todo[next++]!;
        // getToFile writes beside the target and renames: a download cut short never looks cached.
        await store.getToFile(o.key, join(root, o.key));
        if (o.etag !== undefined) manifest.etags[o.key] = o.etag;
        onFetched?.(++done, todo.length);
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(DOWNLOAD_CONCURRENCY, todo.length) }, worker));
    } finally {
      if (todo.length > 0) await this.writeManifest(manifest);
    }
    return objects.map((o) => join(root, o.key));
  }

  /** How many of the objects would be downloaded (missing or changed); for messages and tests. */
  async staleCount(objects: readonly ArchiveObject[]): Promise<number> {
    if (this.cacheRoot === undefined) return 0;
    const manifest = await this.readManifest();
    let n = 0;
    for (const o of objects) if (!(await this.isCached(o, manifest))) n++;
    return n;
  }

  private async isCached(o: ArchiveObject, manifest: CacheManifest): Promise<boolean> {
    // An object without an ETag cannot be validated, so it is always fetched again.
    if (o.etag === undefined || manifest.etags[o.key] !== o.etag) return false;
    try {
      return (await stat(join(this.cacheRoot!, o.key))).size === o.size;
    } catch {
      return false;
    }
  }

  private async readManifest(): Promise<CacheManifest> {
    try {
      const parsed = JSON.parse(await readFile(join(this.cacheRoot!, MANIFEST), 'utf8')) as CacheManifest;
      return { etags: typeof parsed.etags === 'object' && parsed.etags !== null ? parsed.etags : {} };
    } catch {
      // Missing or unreadable: every object is fetched again, which is slow but never wrong.
      return { etags: {} };
    }
  }

  private async writeManifest(manifest: CacheManifest): Promise<void> {
    await mkdir(this.cacheRoot!, { recursive: true });
    const path = join(this.cacheRoot!, MANIFEST);
    await writeFile(`${path}.tmp`, JSON.stringify(manifest));
    await rename(`${path}.tmp`, path);
  }
}

function boundedDays(range: DtRange | undefined): string[] | undefined {
  if (range?.from === undefined || range.to === undefined) return undefined;
  const from = Date.parse(`${range.from}T00:00:00Z`);
  const to = Date.parse(`${range.to}T00:00:00Z`);
  if (!(to >= from) || (to - from) / DAY_MS >= MAX_DAY_LISTINGS) return undefined;
  const days: string[] = [];
  for (let t = from; t <= to; t += DAY_MS) days.push(utcDate(t));
  return days;
}
