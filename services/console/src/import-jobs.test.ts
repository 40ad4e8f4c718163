import type { Logger } from '@gridstream/runtime';
import { describe, expect, it } from 'vitest';
import {
  ImportJobs,
  inImportFolder,
  type JobSummary,
  progressInImportFolder,
  withoutFolder,
} from './import-jobs.js';

const summary: JobSummary = {
  files: [],
  rowsRead: 3,
  rowsSent: 3,
  rowsRejected: 0,
  messagesSent: 1,
  rejects: [],
  rejectsTotal: 0,
  durationMs: 1,
};

describe('ImportJobs', () => {
  it('logs a throwing onEnd instead of leaving an unhandled rejection, and still announces the end', async () => {
    const logged: unknown[] = [];
    const logger = { error: (obj: unknown) => logged.push(obj) } as unknown as Logger;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const jobs = new ImportJobs({ logger });
      const ends: string[] = [];
      const job = jobs.start(
        ['a.csv'],
        async () => summary,
        () => {
          throw new Error('metrics exploded');
        },
      );
      jobs.events.on(job.id, (j: { state: string }) => ends.push(j.state));
      await jobs.drain();
      await new Promise((r) => setTimeout(r, 20));
      expect(job.state).toBe('done');
      expect(ends).toEqual(['done']);
      expect(logged).toHaveLength(1);
      expect(String((logged[0] as { err: Error }).err.message)).toBe('metrics exploded');
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('ends a throwing import as failed with its error', async () => {
    const jobs = new ImportJobs();
    const job = jobs.start(['a.csv'], async () => {
      throw new Error('bad file');
    });
    await jobs.drain();
    expect(job.state).toBe('failed');
    expect(job.error).toBe('bad file');
  });
});

describe('what the job page shows of the server', () => {
  it('names files by their place in the import folder and cuts the folder out of messages', () => {
    const folder = '/srv/gridstream/imports';
    const summary: JobSummary = {
      files: [
        { file: '/srv/gridstream/imports/site-7/meters.csv', rowsRead: 3, rowsSent: 2, rowsRejected: 1 },
        {
          file: '/srv/gridstream/imports/bomb.xlsx',
          rowsRead: 0,
          rowsSent: 0,
          rowsRejected: 0,
          error: '/srv/gridstream/imports/bomb.xlsx: the workbook unpacks to more than 4096 MiB',
        },
        { file: '/elsewhere/other.csv', rowsRead: 0, rowsSent: 0, rowsRejected: 0 },
      ],
      rowsRead: 3,
      rowsSent: 2,
      rowsRejected: 1,
      messagesSent: 1,
      rejects: [
        {
          file: 'file://meters.csv',
          line: 4,
          reason: 'bad_time',
          detail: 'in /srv/gridstream/imports/site-7/meters.csv',
        },
      ],
      rejectsTotal: 1,
      durationMs: 12,
    };
    const shown = inImportFolder(summary, `${folder}/`);
    expect(shown.files.map((f) => f.file)).toEqual(['site-7/meters.csv', 'bomb.xlsx', 'other.csv']);
    expect(shown.files[1]!.error).toBe('bomb.xlsx: the workbook unpacks to more than 4096 MiB');
    expect(shown.rejects[0]!.detail).toBe('in site-7/meters.csv');
    expect(JSON.stringify(shown)).not.toContain('/srv/');
    expect(withoutFolder('open /srv/gridstream/imports/a.csv failed', folder)).toBe('open a.csv failed');
    // The live progress too: the folder-relative name, and only the fields the page and the API document.
    const live = {
      file: `${folder}/site-7/meters.csv`,
      rowsRead: 5,
      rowsSent: 4,
      rowsRejected: 1,
      bytesRead: 10,
      bytesTotal: 20,
      done: false,
    };
    expect(progressInImportFolder(live, folder)).toEqual({
      file: 'site-7/meters.csv',
      rowsRead: 5,
      rowsSent: 4,
      rowsRejected: 1,
      bytesRead: 10,
      bytesTotal: 20,
    });
  });
});
