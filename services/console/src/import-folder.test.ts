import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkImportName,
  ImportPathError,
  isInside,
  listImportFolder,
  resolveImportFile,
  saveUpload,
  UploadTooLargeError,
  uploadName,
} from './import-folder.js';

let root: string;
let dir: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gs-console-import-'));
  dir = join(root, 'imports');
  await mkdir(dir);
  await writeFile(join(dir, 'data.csv'), 'ts,v\n');
  await writeFile(join(root, 'secret.csv'), 'nope\n');
  await symlink(join(root, 'secret.csv'), join(dir, 'link.csv'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('import folder path safety', () => {
  it('accepts plain file names of importable types', () => {
    expect(checkImportName('data.csv')).toBe('data.csv');
    expect(checkImportName('Report 2024.XLSX')).toBe('Report 2024.XLSX');
  });

  it('refuses names that could leave the folder or are not importable', () => {
    for (const name of [
      '../secret.csv',
      '/etc/passwd.csv',
      'a/b.csv',
      'a\\b.csv',
      '..csv',
      '.hidden.csv',
      '',
      'x\u0000.csv',
      'run.sh',
      'data.csv.exe',
    ])
      expect(() => checkImportName(name), name).toThrow(ImportPathError);
  });

  it('resolves only files really inside the folder (symlinks followed first)', async () => {
    expect(await resolveImportFile(dir, 'data.csv')).toMatch(/imports\/data\.csv$/);
    await expect(resolveImportFile(dir, 'link.csv')).rejects.toThrow(/outside/);
    await expect(resolveImportFile(dir, '../secret.csv')).rejects.toThrow(ImportPathError);
    await expect(resolveImportFile(dir, 'missing.csv')).rejects.toThrow(/no file/);
  });

  it('isInside', () => {
    expect(isInside('/a/b', '/a/b/c')).toBe(true);
    expect(isInside('/a/b', '/a/b/../c')).toBe(false);
    expect(isInside('/a/b', '/a/bc')).toBe(false);
    expect(isInside('/a/b', '/a/b/..hidden')).toBe(true);
  });
});

describe('uploads', () => {
  it('generates the stored name; the client path only contributes a cleaned stem', () => {
    const name = uploadName('C:\\Users\\op\\..\\<b>meter data<b>.CSV', new Date('2026-01-02T03:04:05Z'));
    expect(name).toMatch(/^20260102-030405-[0-9a-f]{8}-b_meter_data_b\.csv$/);
    expect(uploadName('../../etc/passwd.csv')).toMatch(/^\d{8}-\d{6}-[0-9a-f]{8}-passwd\.csv$/);
    expect(() => uploadName('evil.sh')).toThrow(ImportPathError);
    expect(() => uploadName(undefined)).toThrow(ImportPathError);
  });

  it('streams to a generated name and never leaves a partial file', async () => {
    const saved = await saveUpload(dir, '../x.csv', Readable.from([Buffer.from('ts,v\n1,2\n')]), 1024);
    expect(saved.name).toMatch(/-x\.csv$/);
    expect(await readFile(join(dir, saved.name), 'utf8')).toBe('ts,v\n1,2\n');

    const big = Object.assign(Readable.from([Buffer.from('0123456789')]), { truncated: true });
    await expect(saveUpload(dir, 'big.csv', big, 5)).rejects.toThrow(UploadTooLargeError);
    const left = await readdir(dir);
    expect(left.filter((f) => f.includes('big') || f.endsWith('.part'))).toEqual([]);

    const listed = await listImportFolder(dir);
    expect(listed.map((f) => f.name)).toContain(saved.name);
    expect(listed.map((f) => f.name)).not.toContain('.hidden');
  });
});
