import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalObjectStore } from './local-store.js';

let dir: string;
let store: LocalObjectStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gs-store-'));
  store = new LocalObjectStore(join(dir, 'archive'));
  await store.ensureReady();
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('LocalObjectStore', () => {
  it('puts, replaces, lists by prefix, reads and deletes objects', async () => {
    const src = join(dir, 'src.bin');
    await writeFile(src, 'first');
    await store.putFile('dt=2024-01-01/t+0+1+2.parquet', src);
    await store.put('dt=2024-01-01/t+1+1+2.parquet', 'other');
    await store.put('dt=2024-01-02/t+0+3+4.parquet', 'later');
    await store.put('dt=2024-01-01/t+0+1+2.parquet', 'replaced');
    expect((await store.get('dt=2024-01-01/t+0+1+2.parquet')).toString()).toBe('replaced');
    expect((await store.list('')).map((o) => o.key)).toEqual([
      'dt=2024-01-01/t+0+1+2.parquet',
      'dt=2024-01-01/t+1+1+2.parquet',
      'dt=2024-01-02/t+0+3+4.parquet',
    ]);
    expect((await store.list('dt=2024-01-01/t+0+')).map((o) => [o.key, o.size])).toEqual([
      ['dt=2024-01-01/t+0+1+2.parquet', 8],
    ]);
    expect((await store.list('dt=2024-01-0')).length).toBe(3);
    expect(await store.head('dt=2024-01-03/none.parquet')).toBeUndefined();
    await store.getToFile('dt=2024-01-02/t+0+3+4.parquet', join(dir, 'out', 'copy.parquet'));
    expect(await readdir(join(dir, 'out'))).toEqual(['copy.parquet']);
    await store.delete('dt=2024-01-02/t+0+3+4.parquet');
    expect((await store.list('dt=2024-01-02/')).length).toBe(0);
    // No temp files left behind by the atomic puts.
    expect(await readdir(join(dir, 'archive', 'dt=2024-01-01'))).toEqual([
      't+0+1+2.parquet',
      't+1+1+2.parquet',
    ]);
  });

  it.each(['../outside.parquet', 'dt=x/../../outside', '/etc/passwd', 'a//b', 'a\\b', 'a/./b', 'a\nb', ''])(
    'refuses the key %j: nothing outside the folder can be addressed',
    async (key) => {
      await expect(store.put(key, 'x')).rejects.toThrow(/invalid object key/);
      await expect(store.get(key)).rejects.toThrow(/invalid object key/);
      expect(await readdir(dir)).toEqual(['archive']);
    },
  );

  it('skips temp files of interrupted puts when listing', async () => {
    await store.put('dt=2024-01-01/a.parquet', 'a');
    await writeFile(join(dir, 'archive', 'dt=2024-01-01', '.abc.tmp-a.parquet'), 'half');
    expect((await store.list('')).map((o) => o.key)).toEqual(['dt=2024-01-01/a.parquet']);
  });
});
