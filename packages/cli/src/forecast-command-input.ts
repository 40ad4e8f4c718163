import { readFile } from 'node:fs/promises';
import { inferStep, type RegularSeries, resample } from '@gridstream/forecast';
import { parseTime } from '@gridstream/importer';

/**
 * One value column of a CSV file as a regular series, for `gridstream forecast backtest`. A small reader
 * on purpose: one record per line, comma-separated, double quotes around a cell allowed (no line breaks
 * inside one). An empty value cell is a gap; any other cell that is not a number refuses the file, with
 * its line — a model fitted around a silently dropped "n/a" would look better than it is.
 */

export class InputError extends Error {}

export interface CsvSeriesOptions {
  timeColumn: string;
  valueColumn: string;
  /** Bucket width in ms; default inferred (median spacing of the times). */
  step?: number;
  /** Zone of times written without an offset; default UTC. */
  timeZone: string;
}

export interface CsvSeries {
  series: RegularSeries;
  /** Data rows read. */
  rows: number;
  /** Rows whose value cell was empty. */
  emptyValues: number;
  stepInferred: boolean;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

export async function readCsvSeries(path: string, options: CsvSeriesOptions): Promise<CsvSeries> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read ${path}: ${(error as Error).message}`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? '');
  const timeAt = header.indexOf(options.timeColumn);
  const valueAt = header.indexOf(options.valueColumn);
  const missing = [
    timeAt < 0 ? `time column "${options.timeColumn}"` : '',
    valueAt < 0 ? `value column "${options.valueColumn}"` : '',
  ].filter(Boolean);
  if (missing.length > 0)
    throw new InputError(
      `${path} has no ${missing.join(' and no ')}; its columns are: ${header.map((h) => JSON.stringify(h)).join(', ')}`,
    );

  const points: { ts: number; value: number }[] = [];
  const problems: string[] = [];
  let problemCount = 0;
  let emptyValues = 0;
  let rows = 0;
  const problem = (line: number, message: string) => {
    problemCount++;
    if (problems.length < 5) problems.push(`line ${line}: ${message}`);
  };
  for (let i = 1; i < lines.length; i++) {
    if (lines[i]!.trim() === '') continue;
    rows++;
    const cells = splitCsvLine(lines[i]!);
    const timeText = (cells[timeAt] ?? '').trim();
    const valueText = (cells[valueAt] ?? '').trim();
    let ts: number;
    try {
      ts = Date.parse(
        parseTime(DATE_ONLY.test(timeText) ? `${timeText} 00:00:00` : timeText, 'auto', options.timeZone),
      );
    } catch (error) {
      problem(i + 1, `${options.timeColumn}: ${(error as Error).message}`);
      continue;
    }
    if (valueText === '') {
      emptyValues++;
      continue;
    }
    if (!NUMBER.test(valueText)) {
      problem(i + 1, `${options.valueColumn} "${valueText}" is not a number`);
      continue;
    }
    points.push({ ts, value: Number(valueText) });
  }
  if (problemCount > 0)
    throw new InputError(
      `${path}: ${problemCount} row(s) refused (an empty value cell is a gap; anything else must be a number):\n  ${problems.join('\n  ')}${problemCount > problems.length ? `\n  … and ${problemCount - problems.length} more` : ''}`,
    );
  if (points.length < 2)
    throw new InputError(`${path}: fewer than two values in column "${options.valueColumn}"`);
  const step = options.step ?? inferStep(points.map((p) => p.ts));
  return { series: resample(points, { step }), rows, emptyValues, stepInferred: options.step === undefined };
}

/** Cells of one CSV line; `"a,b"` is one cell, `""` inside quotes is a quote. */
export function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  cells.push(cell);
  return cells;
}
