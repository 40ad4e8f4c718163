import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARCHIVE_COLUMNS } from '@gridstream/schema';
import { describe, expect, it } from 'vitest';
import { archiveEnvShape } from './archive-env.js';

/** docs/archive.md is what an operator reads to query the files: it must not fall behind the schema. */
const doc = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'archive.md'), 'utf8');
const parquetTable = doc.slice(doc.indexOf('### The Parquet files'));

describe('docs/archive.md', () => {
  it('lists every archive column, in order, in the Parquet file table', () => {
    const rows = parquetTable
      .split('\n')
      .filter((line) => /^\| `[a-z_]+` \|/.test(line))
      .map((line) => /^\| `([a-z_]+)` \|/.exec(line)![1]);
    expect(rows.slice(0, ARCHIVE_COLUMNS.length)).toEqual(ARCHIVE_COLUMNS.map((c) => c.name));
  });

  it('names every ARCHIVE_* variable', () => {
    const names = Object.keys(archiveEnvShape).filter((name) => name.startsWith('ARCHIVE_'));
    for (const name of names) expect(doc, name).toContain(`\`${name}\``);
  });
});
