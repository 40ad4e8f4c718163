import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { openCsv } from './csv-source.js';
import { bomLength, DETECT_BYTES, type Detected, detectEncoding, type EncodingChoice } from './encoding.js';
import type { FileFormat } from './options.js';
import type { Table } from './table.js';
import { openXlsx } from './xlsx-source.js';

/**
 * A file to import: its format and encoding decided from its first 64 KiB, an id derived from its name,
 * size and those bytes (the message-id prefix), and its tables read lazily.
 */
export interface OpenedFile {
  path: string;
  name: string;
  size: number;
  format: 'csv' | 'xlsx';
  /** CSV only. */
  encoding?: Detected['encoding'];
  fileId: string;
  tables: AsyncGenerator<Table>;
  bytesRead(): number;
}

export class UnsupportedFileError extends Error {
  override name = 'UnsupportedFileError';
}

export async function openImportFile(
  path: string,
  options: { format: FileFormat; encoding: EncodingChoice; sheets: readonly string[] },
): Promise<OpenedFile> {
  const info = await stat(path);
  if (!info.isFile()) throw new UnsupportedFileError(`${path} is not a regular file`);
  const head = await readHead(path);
  const name = basename(path);
  const fileId = createHash('sha256')
    .update(`${name}\0${info.size}\0`)
    .update(head)
    .digest('hex')
    .slice(0, 16);
  const isZip = head.length >= 4 && head.readUInt32LE(0) === 0x04034b50;
  const ext = extname(name).toLowerCase();
  if (options.format === 'auto' && ext === '.xls' && !isZip) {
    throw new UnsupportedFileError(`${name}: old binary .xls is not supported; save it as .xlsx or CSV`);
  }
  const format = options.format === 'auto' ? (isZip || ext === '.xlsx' ? 'xlsx' : 'csv') : options.format;
  const source = `file://${name}`;
  if (format === 'xlsx') {
    let stream: { bytesRead: number } | undefined;
    return {
      path,
      name,
      size: info.size,
      format,
      fileId,
      tables: openXlsx({ path, source, sheets: options.sheets }, (file) => {
        stream = file;
      }),
      bytesRead: () => stream?.bytesRead ?? 0,
    };
  }
  const complete = head.length === info.size;
  const detected: Detected =
    options.encoding === 'auto'
      ? detectEncoding(head, complete)
      : { encoding: options.encoding, bomBytes: bomLength(head, options.encoding) };
  let reader: (() => number) | undefined;
  async function* tables(): AsyncGenerator<Table> {
    const { table, bytesRead } = await openCsv({
      path,
      encoding: detected.encoding,
      startByte: detected.bomBytes,
      source,
    });
    reader = bytesRead;
    try {
      yield table;
    } finally {
      table.close();
    }
  }
  return {
    path,
    name,
    size: info.size,
    format,
    encoding: detected.encoding,
    fileId,
    tables: tables(),
    bytesRead: () => (reader ? reader() + detected.bomBytes : 0),
  };
}

async function readHead(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(DETECT_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, DETECT_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
