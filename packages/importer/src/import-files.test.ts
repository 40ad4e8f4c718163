import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Sample, type SamplesMessage, SamplesMessageSchema } from '@gridstream/schema';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import JSZip from 'jszip';
import { describe, expect, it } from 'vitest';
import { detectEncoding } from './encoding.js';
import { type ImportProgress, importFiles } from './import-files.js';
import { checkImportOptions, ImportOptionsError, type ImportOptionsInput } from './options.js';
import { previewFile } from './preview.js';
import { CountingSink, type ImportSendOptions, type ImportSink, importMessages } from './sink.js';
import { checkXlsxSizes, openXlsx, WorkbookTooLargeError } from './xlsx-source.js';

const FIXTURES = resolve(import.meta.dirname, '../../../sample/import');
const fixture = (name: string) => join(FIXTURES, name);

/** Keeps every message (the envelope the Kafka sink sends), so tests can look at exactly what would go to Kafka. */
class MemorySink implements ImportSink {
  readonly messages: { key: string; value: SamplesMessage; headers: Record<string, string> }[] = [];
  async send(samples: readonly Sample[], options: ImportSendOptions): Promise<number> {
    const messages = importMessages(samples, options);
    for (const m of messages) {
      // What the parser will check: every message must be a valid samples.v1 message.
      const value = SamplesMessageSchema.parse(JSON.parse(String(m.value)));
      this.messages.push({ key: String(m.key), value, headers: m.headers as Record<string, string> });
    }
    return messages.length;
  }
  get samples() {
    return this.messages.flatMap((m) => m.value.samples);
  }
}

const vehicle: ImportOptionsInput = {
  files: [fixture('vehicle-telematics.csv')],
  timeColumn: 'RECORD_TIME',
  valueColumns: 'DRIVE_SPEED|RPM',
  deviceColumn: 'PHONE_NUM',
  site: 'depot-1',
  equipment: 'vehicle',
};

describe('message ids', () => {
  const ids = async (options: ImportOptionsInput) => {
    const sink = new MemorySink();
    await importFiles(options, sink);
    return sink.messages.map((m) => m.headers['gs-message-id']);
  };

  it('are the same for the same file read the same way (the parser drops a re-import), new for another mapping', async () => {
    const first = await ids(vehicle);
    expect(await ids(vehicle)).toEqual(first);
    // A corrected zone (or other columns) is a different reading of the file: new ids, not copies.
    const rezoned = await ids({ ...vehicle, timeZone: 'Asia/Seoul' });
    expect(rezoned).toHaveLength(first.length);
    for (const id of rezoned) expect(first).not.toContain(id);
    const otherValues = await ids({ ...vehicle, valueColumns: 'RPM' });
    for (const id of otherValues) expect(first).not.toContain(id);
  });
});

describe('CSV of the reference shape (36 columns, unnamed index column, quoted DTC)', () => {
  it('turns every row into a sample with the chosen fields, ts in UTC with ms and Z', async () => {
    const sink = new MemorySink();
    const summary = await importFiles(vehicle, sink);
    expect(summary.rowsRead).toBe(20);
    expect(summary.rowsSent).toBe(20);
    expect(summary.rowsRejected).toBe(0);
    expect(summary.files[0]).toMatchObject({ format: 'csv', encoding: 'utf-8', rowsSent: 20 });
    const samples = sink.samples;
    expect(samples[0]).toEqual({
      site: 'depot-1',
      equipment: 'vehicle',
      device: '01000000001',
      ts: '2019-12-01T10:20:01.000Z',
      fields: { DRIVE_SPEED: 0, RPM: 700 },
    });
    expect(samples[19]!.ts).toBe('2019-12-01T10:20:01.019Z');
    expect(samples[19]!.fields).toEqual({ DRIVE_SPEED: (19 * 7) % 110, RPM: 700 + ((19 * 37) % 2500) });
    const m = sink.messages[0]!;
    expect(m.key).toBe('depot-1');
    expect(m.headers['gs-schema']).toBe('samples.v1');
    expect(m.headers['gs-source']).toBe('file://vehicle-telematics.csv');
    // File (name, size, first bytes) . mapping (columns, zone, site, …) : first line.
    expect(m.headers['gs-message-id']).toMatch(/^import:[0-9a-f]{16}\.[0-9a-f]{8}:2$/);
    expect(m.headers['gs-received-at']).toMatch(/Z$/);
  });

  it('keeps commas inside quotes in one cell (DTC) and can import it... as a rejected non-number', async () => {
    const preview = await previewFile({ ...vehicle, valueColumns: ['DTC'] }, 2);
    const table = preview.tables[0]!;
    expect(table.columns).toHaveLength(36);
    expect(table.columns[0]).toBe('');
    expect(table.rows[0]!.cells).toHaveLength(36);
    expect(table.rows[0]!.cells[table.columns.indexOf('DTC')]).toBe('0x00,0x00,0x00,0x00');
    expect(table.rejects[0]).toMatchObject({ line: 2, reason: 'not_a_number' });
  });

  it('gives the same message ids on a re-run (re-imports overwrite, not duplicate)', async () => {
    const a = new MemorySink();
    const b = new MemorySink();
    await importFiles({ ...vehicle, samplesPerMessage: 7 }, a);
    await importFiles({ ...vehicle, samplesPerMessage: 7 }, b);
    const ids = (s: MemorySink) => s.messages.map((m) => m.headers['gs-message-id']);
    expect(ids(a)).toHaveLength(3);
    expect(ids(a)).toEqual(ids(b));
    expect(ids(a)[1]).toMatch(/:9$/); // rows 8..14 start at line 9
  });

  it('reads a fixed device id when the file has no id column', async () => {
    const sink = new MemorySink();
    await importFiles({ ...vehicle, deviceColumn: null, device: 'truck-7' }, sink);
    expect(new Set(sink.samples.map((s) => s.device))).toEqual(new Set(['truck-7']));
  });
});

describe('12-hour times (the old tool put PM rows 12 h early)', () => {
  it('converts AM/PM rows including 12 AM, 12 PM and 1 PM', async () => {
    const sink = new MemorySink();
    await importFiles({ ...vehicle, files: [fixture('vehicle-ampm.csv')] }, sink);
    // AMPM_HOURS = [0, 10, 11, 12, 13, 23]
    expect(sink.samples.map((s) => s.ts)).toEqual([
      '2019-12-01T00:00:00.001Z',
      '2019-12-01T10:00:00.001Z',
      '2019-12-01T11:00:00.001Z',
      '2019-12-01T12:00:00.001Z',
      '2019-12-01T13:00:00.001Z',
      '2019-12-01T23:00:00.001Z',
    ]);
  });

  it('reads them in the chosen zone', async () => {
    const sink = new MemorySink();
    await importFiles({ ...vehicle, files: [fixture('vehicle-ampm.csv')], timeZone: 'Asia/Seoul' }, sink);
    expect(sink.samples[0]!.ts).toBe('2019-11-30T15:00:00.001Z');
    expect(sink.samples[4]!.ts).toBe('2019-12-01T04:00:00.001Z');
  });
});

describe('device id per row', () => {
  it('labels each row with its own device (mixed-id file)', async () => {
    const sink = new MemorySink();
    const summary = await importFiles({ ...vehicle, files: [fixture('mixed-devices.csv')] }, sink);
    expect(summary.rowsSent).toBe(30);
    sink.samples.forEach((s, i) => {
      expect(s.device).toBe(`0100000${String(10 + (i % 3)).padStart(4, '0')}`);
      expect(s.fields.DRIVE_SPEED).toBe((i * 7) % 110);
    });
  });
});

describe('encodings', () => {
  const korean = (file: string, encoding?: 'auto' | 'euc-kr' | 'cp949' | 'utf-8') => ({
    files: [fixture(file)],
    encoding,
    timeColumn: '기록시간',
    valueColumns: ['속도', '회전수'],
    deviceColumn: '차량번호',
    site: 'depot-1',
    equipment: 'vehicle',
  });

  it('detects EUC-KR and reads Korean headers and ids', async () => {
    const sink = new MemorySink();
    const summary = await importFiles(korean('korean-euc-kr.csv'), sink);
    expect(summary.files[0]!.encoding).toBe('euc-kr');
    expect(summary.rowsSent).toBe(3);
    expect(sink.samples[2]).toMatchObject({ device: '차량-02', fields: { 속도: 30, 회전수: 1000 } });
    const preview = await previewFile(korean('korean-euc-kr.csv'), 5);
    expect(preview.tables[0]!.rows[0]!.cells[5]).toBe('화물');
  });

  it('detects CP949 (syllables EUC-KR lacks) and decodes them', async () => {
    const preview = await previewFile(korean('korean-cp949.csv'), 5);
    expect(preview.encoding).toBe('cp949');
    expect(preview.tables[0]!.columns).toEqual(['', '기록시간', '차량번호', '속도', '회전수', '차종']);
    expect(preview.tables[0]!.rows[0]!.cells[5]).toBe('똠방쀍');
    expect(preview.tables[0]!.samples).toHaveLength(3);
  });

  it('uses a chosen encoding as given', async () => {
    const preview = await previewFile(korean('korean-cp949.csv', 'cp949'), 5);
    expect(preview.encoding).toBe('cp949');
    expect(preview.tables[0]!.rows[0]!.cells[5]).toBe('똠방쀍');
  });

  it('detects UTF-8, with or without a BOM (the BOM is not part of the first header)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gs-import-'));
    try {
      const text = 'RECORD_TIME,차량번호,속도\n2019-12-01 10:20:01,차-1,5\n';
      await writeFile(
        join(dir, 'bom.csv'),
        Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]),
      );
      const sink = new MemorySink();
      const summary = await importFiles(
        {
          files: [join(dir, 'bom.csv')],
          timeColumn: 'RECORD_TIME',
          valueColumns: '속도',
          deviceColumn: '차량번호',
          site: 's',
          equipment: 'vehicle',
        },
        sink,
      );
      expect(summary.files[0]!.encoding).toBe('utf-8');
      expect(sink.samples).toEqual([
        {
          site: 's',
          equipment: 'vehicle',
          device: '차-1',
          ts: '2019-12-01T10:20:01.000Z',
          fields: { 속도: 5 },
        },
      ]);
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('detection: a UTF-8 character cut at the sample end is still UTF-8; EUC-KR vs CP949 exactly', () => {
    const utf8 = Buffer.from('가나다'.repeat(10));
    expect(detectEncoding(utf8.subarray(0, utf8.length - 1), false).encoding).toBe('utf-8');
    expect(detectEncoding(iconv.encode('기록시간,차량번호\n'.repeat(20), 'euc-kr'), true).encoding).toBe(
      'euc-kr',
    );
    expect(detectEncoding(iconv.encode('똠방각하,쀍\n'.repeat(20), 'cp949'), true).encoding).toBe('cp949');
    expect(() => detectEncoding(Buffer.from([0xff, 0xfe, 0x41, 0x00]), true)).toThrow(/UTF-16/);
  });
});

describe('rejects: every bad row reported with its physical line, none dropped silently', () => {
  it('reports each reason at the exact line, counting a quoted field that spans two lines', async () => {
    const sink = new MemorySink();
    const summary = await importFiles(
      {
        files: [fixture('malformed-rows.csv')],
        timeColumn: 'RECORD_TIME',
        valueColumns: ['DRIVE_SPEED', 'RPM'],
        deviceColumn: 'PHONE_NUM',
        site: 'depot-1',
        equipment: 'vehicle',
      },
      sink,
    );
    expect(summary.rejects.map((r) => [r.line, r.reason])).toEqual([
      [5, 'bad_time'],
      [6, 'not_a_number'],
      [7, 'missing_device'],
      [8, 'column_count'],
      [9, 'no_values'],
      [14, 'malformed_csv'],
    ]);
    expect(summary.rejects.every((r) => r.file === 'file://malformed-rows.csv')).toBe(true);
    expect(summary.rejects[1]!.detail).toContain('"fast"');
    expect(summary.rejectsTotal).toBe(6);
    expect(summary.rowsRejected).toBe(6);
    expect(summary.rejects[5]!.detail).toMatch(/^line 14 could not be read as CSV: .*[Qq]uote/);
    // Good rows: lines 2, 3 (spans 3-4), 10 (RPM only), 12 (stray quote in a text column) and 13.
    expect(sink.samples.map((s) => s.fields)).toEqual([
      { DRIVE_SPEED: 10, RPM: 800 },
      { DRIVE_SPEED: 11, RPM: 810 },
      { RPM: 870 },
      { DRIVE_SPEED: 18, RPM: 880 },
      { DRIVE_SPEED: 19, RPM: 890 },
    ]);
    expect(summary.rowsSent).toBe(5);
    // Nothing is lost: every data row is either sent or rejected.
    expect(summary.rowsRead + summary.rejects.filter((r) => r.reason === 'malformed_csv').length).toBe(
      summary.rowsSent + summary.rowsRejected,
    );
  });

  it('caps the listed rejects but counts them all', async () => {
    const summary = await importFiles(
      { ...vehicle, valueColumns: ['DTC'], maxRejects: 3 },
      new CountingSink(),
    );
    expect(summary.rejects).toHaveLength(3);
    expect(summary.rejectsTotal).toBe(20);
  });

  it('a missing column fails that file (named, with the columns there are) and not the others', async () => {
    const summary = await importFiles(
      { ...vehicle, files: [fixture('korean-euc-kr.csv'), fixture('vehicle-telematics.csv')] },
      new CountingSink(),
    );
    expect(summary.files[0]!.error).toMatch(
      /"RECORD_TIME", "DRIVE_SPEED", "RPM", "PHONE_NUM"|not in the header/,
    );
    expect(summary.files[0]!.error).toContain('기록시간');
    expect(summary.files[1]!.rowsSent).toBe(20);
    expect(summary.files[1]!.error).toBeUndefined();
  });
});

describe('Excel', () => {
  const xlsx = { ...vehicle, files: [fixture('vehicle-two-sheets.xlsx')] };

  it('reads all sheets by default, text and date cells, with sheet-qualified sources and row numbers', async () => {
    const sink = new MemorySink();
    const summary = await importFiles(xlsx, sink);
    expect(summary.files[0]).toMatchObject({
      format: 'xlsx',
      sheets: ['Morning', 'Afternoon'],
      rowsSent: 10,
    });
    expect(sink.messages.map((m) => m.headers['gs-source'])).toEqual([
      'file://vehicle-two-sheets.xlsx#Morning',
      'file://vehicle-two-sheets.xlsx#Afternoon',
    ]);
    const morning = sink.messages[0]!.value.samples;
    expect(morning.map((s) => s.ts)).toEqual([
      '2019-12-01T09:00:00.000Z',
      '2019-12-01T09:00:01.000Z',
      '2019-12-01T09:00:02.000Z',
      '2019-12-01T09:00:03.000Z',
      '2019-12-01T09:00:04.000Z',
    ]);
    expect(morning[1]).toMatchObject({ device: '01000000020', fields: { DRIVE_SPEED: 7, RPM: 737 } });
    expect(sink.messages[1]!.value.samples[0]).toMatchObject({
      device: '01000000021',
      ts: '2019-12-01T15:00:00.000Z',
      fields: { DRIVE_SPEED: 70, RPM: 1070 },
    });
    expect(sink.messages[1]!.headers['gs-message-id']).toMatch(/#Afternoon:2$/);
  });

  it('reads every sheet when the reader is slower than the zip parser (the rest of the workbook was lost)', async () => {
    // The fixture's parts with the workbook, shared strings and styles first and small sheets after them:
    // exceljs hands out sheet 1 while the parser runs on to the end of the file, and unzipper's early 'end'
    // made exceljs stop there — sheet 2 never came, without an error. Pausing after each sheet (as a reader
    // waiting for Kafka does) showed it every time.
    const dir = await mkdtemp(join(tmpdir(), 'gs-import-order-'));
    try {
      const zip = await JSZip.loadAsync(await readFile(fixture('vehicle-two-sheets.xlsx')));
      const reordered = new JSZip();
      for (const name of [
        '[Content_Types].xml',
        '_rels/.rels',
        'xl/workbook.xml',
        'xl/_rels/workbook.xml.rels',
        'xl/sharedStrings.xml',
        'xl/styles.xml',
        'xl/theme/theme1.xml',
        'xl/worksheets/sheet1.xml',
        'xl/worksheets/sheet2.xml',
        'docProps/app.xml',
        'docProps/core.xml',
      ])
        reordered.file(name, await zip.file(name)!.async('nodebuffer'));
      const path = join(dir, 'reordered.xlsx');
      await writeFile(path, await reordered.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' }));
      const seen: [string | undefined, number][] = [];
      for await (const table of openXlsx(
        { path, source: 'file://reordered.xlsx', sheets: [] },
        () => undefined,
      )) {
        let rows = 0;
        for await (const _ of table.rows) rows++;
        seen.push([table.sheet, rows]);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(seen).toEqual([
        ['Morning', 5],
        ['Afternoon', 5],
      ]);
      const sink = new MemorySink();
      expect((await importFiles({ ...xlsx, files: [path] }, sink)).rowsSent).toBe(10);
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('reads only the chosen sheet; an unknown sheet is named with the ones there are', async () => {
    const sink = new MemorySink();
    await importFiles({ ...xlsx, sheets: ['Afternoon'] }, sink);
    expect(sink.samples).toHaveLength(5);
    expect(sink.samples.every((s) => s.device === '01000000021')).toBe(true);
    const summary = await importFiles({ ...xlsx, sheets: ['Night'] }, new CountingSink());
    expect(summary.files[0]!.error).toMatch(
      /"Night" not in the workbook; its sheets are "Morning", "Afternoon"/,
    );
  });

  it('Excel date cells are wall times, read in the chosen zone', async () => {
    const sink = new MemorySink();
    await importFiles({ ...xlsx, sheets: ['Morning'], timeZone: 'Asia/Seoul' }, sink);
    expect(sink.samples[0]!.ts).toBe('2019-12-01T00:00:00.000Z'); // text cell
    expect(sink.samples[1]!.ts).toBe('2019-12-01T00:00:01.000Z'); // date cell
  });

  it('streams a larger workbook (20,000 rows) completely, with byte progress', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gs-import-xlsx-'));
    try {
      const path = join(dir, 'big.xlsx');
      const writer = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: path, useSharedStrings: false });
      const sheet = writer.addWorksheet('data');
      sheet.addRow(['RECORD_TIME', 'PHONE_NUM', 'RPM']).commit();
      for (let i = 0; i < 20_000; i++) {
        sheet.addRow([new Date(Date.UTC(2020, 0, 1) + i * 1000).toISOString(), `dev-${i % 4}`, i]).commit();
      }
      sheet.commit();
      await writer.commit();
      const reports: ImportProgress[] = [];
      const sink = new CountingSink();
      const summary = await importFiles({ ...xlsx, files: [path], valueColumns: ['RPM'] }, sink, (p) =>
        reports.push(p),
      );
      expect(summary.rowsSent).toBe(20_000);
      expect(sink.messages).toBe(40);
      expect(reports.at(-1)).toMatchObject({ done: true, rowsSent: 20_000 });
      expect(reports.at(-1)!.bytesRead).toBe(reports.at(-1)!.bytesTotal);
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('a damaged workbook is named as such and does not stop the other files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gs-import-bad-xlsx-'));
    try {
      const bytes = await readFile(fixture('vehicle-two-sheets.xlsx'));
      const damaged = join(dir, 'damaged.xlsx');
      await writeFile(damaged, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
      const summary = await importFiles(
        { ...xlsx, files: [damaged, fixture('vehicle-telematics.csv')] },
        new CountingSink(),
      );
      expect(summary.files[0]!.error).toMatch(/not a readable \.xlsx workbook/);
      expect(summary.files[1]).toMatchObject({ rowsSent: 20 });
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('refuses a workbook whose shared strings unpack past the limit (a 140 kB zip bomb), in preview and import', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gs-import-bomb-'));
    try {
      // The fixture with its shared strings replaced by 130 MiB of one character: ~140 kB deflated.
      const zip = await JSZip.loadAsync(await readFile(fixture('vehicle-two-sheets.xlsx')));
      const head =
        '<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>';
      zip.file(
        'xl/sharedStrings.xml',
        Buffer.concat([
          Buffer.from(head),
          Buffer.alloc(130 * 1024 * 1024, 'x'),
          Buffer.from('</t></si></sst>'),
        ]),
      );
      const bomb = join(dir, 'bomb.xlsx');
      await writeFile(bomb, await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' }));
      await expect(previewFile({ files: [bomb] }, 2)).rejects.toThrow(
        /shared strings unpack to more than 128 MiB/,
      );
      const summary = await importFiles(
        { ...xlsx, files: [bomb, fixture('vehicle-telematics.csv')] },
        new CountingSink(),
      );
      expect(summary.files[0]!.error).toMatch(/shared strings unpack to more than 128 MiB/);
      expect(summary.files[1]).toMatchObject({ rowsSent: 20 });
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('counts what the parts unpack to, whatever their headers say, against each limit', async () => {
    const path = fixture('vehicle-two-sheets.xlsx');
    await expect(checkXlsxSizes(path)).resolves.toBeUndefined();
    await expect(checkXlsxSizes(path, { sharedStringsBytes: 10, totalBytes: 1024 ** 3 })).rejects.toThrow(
      WorkbookTooLargeError,
    );
    await expect(checkXlsxSizes(path, { sharedStringsBytes: 1024 ** 2, totalBytes: 1_000 })).rejects.toThrow(
      /the workbook unpacks to more than/,
    );
  });

  it('previews the columns of every sheet', async () => {
    const preview = await previewFile({ files: xlsx.files }, 2);
    expect(preview.format).toBe('xlsx');
    expect(preview.tables.map((t) => t.sheet)).toEqual(['Morning', 'Afternoon']);
    expect(preview.tables[0]!.columns).toEqual(['', 'RECORD_TIME', 'PHONE_NUM', 'DRIVE_SPEED', 'RPM']);
    expect(preview.tables[0]!.rows.map((r) => r.line)).toEqual([2, 3]);
    expect(preview.mappingProblems.map((p) => p.option).sort()).toEqual(
      ['deviceColumn', 'equipment', 'site', 'timeColumn', 'valueColumns'].sort(),
    );
  });
});

describe('options', () => {
  it('reports every bad option by name', async () => {
    try {
      await importFiles(
        {
          files: [],
          timeColumn: '',
          valueColumns: '||',
          site: '',
          equipment: 'Vehicle Data',
          timeZone: 'Mars/Base',
          timeFormat: 'weird' as 'iso',
        },
        new CountingSink(),
      );
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ImportOptionsError);
      const names = (error as ImportOptionsError).problems.map((p) => p.option).sort();
      expect(names).toEqual(
        [
          'deviceColumn',
          'equipment',
          'files',
          'site',
          'timeColumn',
          'timeFormat',
          'timeZone',
          'valueColumns',
        ].sort(),
      );
    }
  });

  it('says what to choose for options not given at all, in the words it uses for empty ones', () => {
    const { problems } = checkImportOptions({ files: ['x.csv'] });
    expect(problems).toEqual([
      { option: 'timeColumn', message: 'choose the time column' },
      { option: 'valueColumns', message: 'choose at least one value column' },
      { option: 'site', message: 'give the site id' },
      { option: 'equipment', message: 'give the equipment name (the InfluxDB measurement), e.g. vehicle' },
      {
        option: 'deviceColumn',
        message: 'choose the device-id column, or give a fixed device id (device) for files without one',
      },
    ]);
  });

  it('refuses a device column and a fixed device together', () => {
    return expect(importFiles({ ...vehicle, device: 'x' }, new CountingSink())).rejects.toThrow(
      /either deviceColumn .* or device/,
    );
  });
});

describe('progress and backpressure', () => {
  it('reports progress at most ~10×/s and once at the end with all bytes', async () => {
    const reports: ImportProgress[] = [];
    const summary = await importFiles(
      { ...vehicle, files: [fixture('mixed-devices.csv')] },
      new CountingSink(),
      (p) => reports.push(p),
    );
    const last = reports.at(-1)!;
    expect(last.done).toBe(true);
    expect(last.rowsSent).toBe(summary.rowsSent);
    expect(last.bytesRead).toBe(last.bytesTotal);
  });

  it('never has more than one sink call in flight, and reads at most a batch ahead of it', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let calls = 0;
    const slow: ImportSink = {
      async send(samples, options) {
        calls++;
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
        return importMessages(samples, options).length;
      },
    };
    const reports: ImportProgress[] = [];
    await importFiles(
      { ...vehicle, files: [fixture('mixed-devices.csv')], samplesPerMessage: 1 },
      slow,
      (p) => reports.push(p),
    );
    expect(maxInFlight).toBe(1);
    expect(calls).toBe(4); // 30 messages in calls of 8
  });

  it('stops with the partial summary when the sink fails', async () => {
    let n = 0;
    const failing: ImportSink = {
      async send(samples) {
        if (++n === 2) throw new Error('broker gone');
        return samples.length;
      },
    };
    await expect(
      importFiles({ ...vehicle, files: [fixture('mixed-devices.csv')], samplesPerMessage: 1 }, failing),
    ).rejects.toMatchObject({ name: 'ImportAbortedError', summary: { rowsSent: 8 } });
  });
});
