import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const workspaces = ['packages', 'services'].flatMap((dir) =>
  readdirSync(join(root, dir)).map((name) => join(root, dir, name)),
);
const bins = workspaces.flatMap((dir) => {
  const manifest = join(dir, 'package.json');
  if (!existsSync(manifest)) return [];
  const bin = (JSON.parse(readFileSync(manifest, 'utf8')) as { bin?: Record<string, string> }).bin ?? {};
  return Object.entries(bin).map(([name, file]) => ({ name, dir, file }));
});

/**
 * `npx gridstream …` (the README's first commands) needs npm to have linked the bin at install time, which
 * it skips when the file is missing — and dist/ is missing on a fresh clone until the first build.
 */
describe('command-line bins', () => {
  it('the CLI and every service that has a bin name one', () => {
    expect(bins.map((b) => b.name).sort()).toEqual([
      'gridstream',
      'gridstream-archiver',
      'gridstream-bridge',
      'gridstream-modbus-collector',
      'gridstream-mqtt-collector',
      'gridstream-opcua-collector',
      'gridstream-serial-collector',
      'gridstream-simulator',
    ]);
  });

  for (const { name, dir, file } of bins) {
    it(`${name}: a committed, executable file outside dist/ that runs the built main`, () => {
      expect(file.startsWith('dist/')).toBe(false);
      const path = join(dir, file);
      expect(existsSync(path)).toBe(true);
      expect(statSync(path).mode & 0o111).not.toBe(0);
      const text = readFileSync(path, 'utf8');
      expect(text.startsWith('#!/usr/bin/env node\n')).toBe(true);
      expect(text).toContain("import '../dist/main.js';");
    });
  }
});
