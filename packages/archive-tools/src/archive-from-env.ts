import { createObjectStore, LocalObjectStore, type ObjectStore } from '@gridstream/archive';
import { StoreArchiveSource } from './archive-source.js';
import type { ToolsEnv } from './tools-env.js';

/**
 * The archive the environment points at, by the archiver's own rule (@gridstream/archive): the bucket
 * when ARCHIVE_S3_BUCKET is set, else ARCHIVE_DIR — so the tools read what it writes. `dir` (a --dir or
 * --out option) wins.
 */
export function archiveStoreFromEnv(env: ToolsEnv, dir?: string): ObjectStore {
  return dir === undefined ? createObjectStore(env) : new LocalObjectStore(dir);
}

export function archiveSourceFromEnv(env: ToolsEnv, dir?: string): StoreArchiveSource {
  return new StoreArchiveSource(archiveStoreFromEnv(env, dir), env.ARCHIVE_CACHE_DIR);
}
