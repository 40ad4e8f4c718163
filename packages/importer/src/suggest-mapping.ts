import { toEquipmentName } from './options.js';
import { isNumberText } from './row-mapper.js';
import { parseTime, type TimeFormat } from './time-formats.js';

/**
 * A first guess at the column mapping from a file's first rows (a preview's first table), for the console
 * to pre-fill its form. Pure and cheap: it reads the header and the sample cells as text, and it asks the
 * importer's own parsers, so a detected format is one the import really reads the samples with. Every
 * guess is only a suggestion: the operator checks it and previews before anything is sent.
 *
 * - time column: a column whose every non-empty sample parses as a time (see `timeFormatOf`); among
 *   several, the one whose header looks most like a time (`time`, `timestamp`, …, `…_TIME`, `…시간`), then
 *   the first. Columns of plain numbers (epoch times) only count when their header looks like a time (or
 *   they are 14-digit times) and their times fall in 1990–2099 (otherwise every integer column would
 *   "parse" as epoch seconds). With no such column, a column named like a time is still suggested, with
 *   `unreadableTime` naming a sample no format reads (preprocessed.csv's `2020-01-01`: a date without a
 *   time of day; a stray `yesterday`) and the format of the samples that do parse, if any.
 * - value columns: every other named column (not a time candidate either) whose non-empty samples are all
 *   numbers as the importer reads them (`1.5`, `-2e3`; not `1,5`: the importer does not read decimal
 *   commas), except digit codes with a leading zero (`01000000001`: an id, not a quantity) and a
 *   row-number column (`idx`, `index`, … counting up by one).
 * - device column: a text (or digit-code) column, filled in most rows, that is not a time, scored by its
 *   header (`device`, `meter`, `id`, `name`, `tag`, `…_NUM`, `장치`, `계량기`, `…번호`, …) and by repeats
 *   (a device id recurs; a value unique in every row looks like a row key): the best score of at least 1.
 * - equipment: the file name's stem in lower snake case, unless the name has no letters or is a UUID.
 */

export interface MappingSuggestion {
  timeColumn?: string;
  /**
   * The format that reads every sample of `timeColumn` — or, when it was chosen by its header only, every
   * sample that any format reads; absent when there is none.
   */
  timeFormat?: TimeFormat;
  /** `timeColumn` was chosen by its header only: this sample (the first such) is in no format at all. */
  unreadableTime?: string;
  /** In file order. */
  valueColumns: string[];
  deviceColumn?: string;
  equipment?: string;
}

/** What detection reads: a preview table's header and sample rows (cells as the preview shows them). */
export interface SampleTable {
  columns: readonly string[];
  rows: readonly { cells: readonly string[] }[];
}

/**
 * The explicit formats in the order they are preferred. A format is suggested only if it reads every
 * sample to the same instant as `auto` does (so `1575195601` is epoch seconds, as auto reads it, not
 * epoch milliseconds in 1970); `iso` comes before `YYYY-MM-DD HH:mm:ss` so `T`-separated times are
 * called ISO (both read them the same).
 */
const FORMAT_PREFERENCE = [
  'ampm',
  '14digit',
  'iso',
  'YYYY-MM-DD HH:mm:ss',
  'epoch_ms',
  'epoch_s',
] as const satisfies readonly Exclude<TimeFormat, 'auto'>[];

/**
 * The format that reads every sample (non-empty, trimmed): the first of FORMAT_PREFERENCE that reads each
 * one to the instant `auto` reads it to, else `auto` when auto reads them all (mixed spellings, or Excel
 * date cells next to text times), else undefined. Read in UTC: detection is about the spelling; the zone
 * is the operator's choice.
 */
export function timeFormatOf(samples: readonly string[]): TimeFormat | undefined {
  if (samples.length === 0) return undefined;
  const auto = samples.map((s) => tryParse(s, 'auto'));
  if (auto.some((t) => t === undefined)) return undefined;
  for (const format of FORMAT_PREFERENCE) {
    if (samples.every((s, i) => tryParse(s, format) === auto[i])) return format;
  }
  return 'auto';
}

export function suggestMapping(
  table: SampleTable | undefined,
  options: { fileName?: string } = {},
): MappingSuggestion {
  const suggestion: MappingSuggestion = { valueColumns: [] };
  const equipment = options.fileName === undefined ? undefined : equipmentFromFileName(options.fileName);
  if (equipment !== undefined) suggestion.equipment = equipment;
  if (table === undefined) return suggestion;

  const columns: ColumnFacts[] = [];
  const seen = new Set<string>();
  table.columns.forEach((header, index) => {
    const name = header.trim();
    // An unnamed column (a pandas index) cannot be chosen; a repeated name would be ambiguous.
    if (name === '' || seen.has(name)) return;
    seen.add(name);
    const cells = table.rows.map((r) => (r.cells[index] ?? '').trim());
    columns.push(factsOf(name, cells));
  });

  // Time: readable columns first (best header score, then file order), else a time-like header alone.
  const time =
    best(
      columns.filter((c) => c.time),
      (c) => c.timeName,
    ) ??
    best(
      columns.filter((c) => c.timeName > 0 && c.samples.length > 0 && c.timeFormat === undefined),
      (c) => c.timeName,
    );
  if (time !== undefined) {
    suggestion.timeColumn = time.name;
    if (time.timeFormat !== undefined) suggestion.timeFormat = time.timeFormat;
    else {
      // Chosen by its header: the format of the samples that do parse (their rows import), if any.
      suggestion.unreadableTime = time.samples.find((s) => tryParse(s, 'auto') === undefined);
      const format = timeFormatOf(time.samples.filter((s) => tryParse(s, 'auto') !== undefined));
      if (format !== undefined) suggestion.timeFormat = format;
    }
  }

  suggestion.valueColumns = columns
    .filter((c) => c !== time && !c.time && c.numeric && !c.digitCode && !c.rowNumber)
    .map((c) => c.name);

  const device = best(
    columns.filter(
      (c) =>
        c !== time &&
        (!c.numeric || c.digitCode) &&
        !c.time &&
        c.samples.length * 2 > c.cells.length &&
        c.samples.every(isDeviceId),
    ),
    deviceScore,
  );
  if (device !== undefined && deviceScore(device) >= 1) suggestion.deviceColumn = device.name;
  return suggestion;
}

interface ColumnFacts {
  name: string;
  cells: string[];
  /** The non-empty cells. */
  samples: string[];
  timeFormat: TimeFormat | undefined;
  /**
   * A time column candidate: `timeFormat` reads every sample, and if they are plain numbers (epoch times or
   * quantities alike) the header looks like a time (or they are 14-digit times) and they fall in 1990–2099.
   */
  time: boolean;
  /** 2: the header is a time word; 1: it contains one; 0: neither. */
  timeName: number;
  numeric: boolean;
  digitCode: boolean;
  rowNumber: boolean;
}

function factsOf(name: string, cells: string[]): ColumnFacts {
  const samples = cells.filter((c) => c !== '');
  const timeFormat = timeFormatOf(samples);
  const timeName = nameScore(name, TIME_WORDS, TIME_PARTS);
  const plainNumbers = samples.every((s) => /^\d+(?:\.\d+)?$/.test(s));
  const numeric = samples.length > 0 && samples.every((s) => isNumberText(s) && Number.isFinite(Number(s)));
  const plausible = (format: TimeFormat) =>
    samples.every((s) => {
      const t = tryParse(s, format);
      return t !== undefined && t >= '1990' && t < '2100';
    });
  return {
    name,
    cells,
    samples,
    timeFormat,
    time:
      timeFormat !== undefined &&
      (!plainNumbers || ((timeName > 0 || timeFormat === '14digit') && plausible(timeFormat))),
    timeName,
    numeric,
    digitCode: numeric && samples.some((s) => /^[+-]?0\d/.test(s)),
    rowNumber:
      ROW_NUMBER_NAMES.has(name.toLowerCase()) &&
      samples.length === cells.length &&
      samples.every((s, i) => /^\d+$/.test(s) && (i === 0 || Number(s) === Number(samples[i - 1]) + 1)),
  };
}

const TIME_WORDS = new Set([
  'time',
  'timestamp',
  'date',
  'datetime',
  'ts',
  'epoch',
  '시간',
  '일시',
  '시각',
  '일자',
  '날짜',
  '측정시간',
  '측정일시',
]);
const TIME_PARTS = ['시간', '일시', '시각', '일자', '날짜'];
const DEVICE_WORDS = new Set([
  'device',
  'dev',
  'meter',
  'id',
  'name',
  'tag',
  'sensor',
  'serial',
  'phone',
  'num',
  'no',
  'number',
  'imei',
  '장치',
  '계량기',
  '기기',
  '센서',
  '단말',
  '태그',
]);
const DEVICE_PARTS = ['장치', '계량기', '기기', '센서', '단말', '태그', '번호'];
const ROW_NUMBER_NAMES = new Set(['idx', 'index', 'no', 'row', 'seq', 'unnamed: 0']);

/** 2 when the whole header is one of `words`, 1 when a word of it is (or it contains a Korean part). */
function nameScore(name: string, words: ReadonlySet<string>, koreanParts: readonly string[]): number {
  const lower = name.toLowerCase();
  if (words.has(lower)) return 2;
  const parts = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9\uac00-\ud7a3]+/)
    .filter((w) => w !== '');
  if (parts.some((w) => words.has(w))) return 1;
  return koreanParts.some((k) => name.includes(k)) ? 1 : 0;
}

/** Header like a device id: +2; values that repeat: +1; a different value in each of 3+ rows: -1. */
function deviceScore(c: ColumnFacts): number {
  const distinct = new Set(c.samples).size;
  const n = c.samples.length;
  return (
    (nameScore(c.name, DEVICE_WORDS, DEVICE_PARTS) > 0 ? 2 : 0) +
    (distinct < n ? 1 : 0) -
    (distinct === n && n >= 3 ? 1 : 0)
  );
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the regex exists to find control characters
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/** A value the row mapper accepts as a device id. */
function isDeviceId(s: string): boolean {
  return s.length <= 128 && !CONTROL_CHARS.test(s);
}

/** The highest-scoring item, the first of equals; undefined for none. */
function best<T>(items: readonly T[], score: (item: T) => number): T | undefined {
  let top: T | undefined;
  let topScore = Number.NEGATIVE_INFINITY;
  for (const item of items) {
    const s = score(item);
    if (s > topScore) {
      top = item;
      topScore = s;
    }
  }
  return top;
}

function tryParse(text: string, format: TimeFormat): string | undefined {
  try {
    return parseTime(text, format, 'UTC');
  } catch {
    return undefined;
  }
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `vehicle-telematics.csv` → `vehicle_telematics`; nothing for a name without letters or a UUID. */
export function equipmentFromFileName(fileName: string): string | undefined {
  const base = fileName.split(/[\\/]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  const stem = dot >= 0 ? base.slice(0, dot) : base;
  if (UUID_RE.test(stem) || !/[A-Za-z]/.test(stem)) return undefined;
  const name = toEquipmentName(stem);
  return name === '' ? undefined : name;
}
