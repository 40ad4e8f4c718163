import type { Sample } from '@gridstream/schema';
import { openImportFile } from './open-file.js';
import { checkImportOptions, type OptionProblem, parsePreviewSource } from './options.js';
import type { Reject } from './rejects.js';
import { cellText, columnNames, createRowMapper, MappingError } from './row-mapper.js';

/**
 * previewFile: the first rows of the first file as they would be stored, for the console's column chooser
 * and the CLI's --dry-run. Works before a mapping is chosen (then it returns the columns and raw rows, and
 * `mappingProblems` says what is still missing); nothing is sent anywhere.
 */

export interface TablePreview {
  /** `file://<name>` or `file://<name>#<sheet>`. */
  source: string;
  sheet?: string;
  /** Header names in file order; an unnamed column (a pandas index) is ''. */
  columns: string[];
  /** The first n data rows as text, with their line numbers. */
  rows: { line: number; cells: string[] }[];
  /** The samples those rows become (with a complete mapping). */
  samples: { line: number; sample: Sample }[];
  rejects: Reject[];
  /** The header lacks a chosen column. */
  error?: string;
}

export interface FilePreview {
  file: string;
  format: 'csv' | 'xlsx';
  /** The encoding used (detected when `encoding` is auto); CSV only. */
  encoding?: string;
  tables: TablePreview[];
  /** What keeps the options from being a complete import (empty when they are). */
  mappingProblems: OptionProblem[];
}

export async function previewFile(input: unknown, n = 20): Promise<FilePreview> {
  const source = parsePreviewSource(input);
  const { options, problems } = checkImportOptions(input);
  const opened = await openImportFile(source.files[0]!, source);
  const preview: FilePreview = {
    file: opened.path,
    format: opened.format,
    tables: [],
    mappingProblems: problems,
  };
  if (opened.encoding) preview.encoding = opened.encoding;
  for await (const table of opened.tables) {
    const tp: TablePreview = {
      source: table.source,
      columns: columnNames(table.header),
      rows: [],
      samples: [],
      rejects: [],
    };
    if (table.sheet !== undefined) tp.sheet = table.sheet;
    preview.tables.push(tp);
    let mapper: ReturnType<typeof createRowMapper> | undefined;
    if (options) {
      try {
        mapper = createRowMapper(table, options);
      } catch (error) {
        if (!(error instanceof MappingError)) throw error;
        tp.error = error.message;
      }
    }
    if (n <= 0) continue;
    let events = 0;
    for await (const event of table.rows) {
      if (event.kind === 'malformed') {
        tp.rejects.push({
          file: table.source,
          line: event.line,
          reason: 'malformed_csv',
          detail: event.detail,
        });
      } else {
        tp.rows.push({ line: event.line, cells: event.cells.map(cellText) });
        if (mapper) {
          const result = mapper(event.cells);
          if (result.ok) tp.samples.push({ line: event.line, sample: result.sample });
          else
            tp.rejects.push({
              file: table.source,
              line: event.line,
              reason: result.reason,
              detail: result.detail,
            });
        }
      }
      if (++events >= n) break;
    }
  }
  return preview;
}

/** The columns of each table (sheet) of a file: a preview without rows. */
export async function listColumns(input: unknown): Promise<FilePreview> {
  return previewFile(input, 0);
}
