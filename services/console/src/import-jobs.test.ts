import type { Logger } from '@gridstream/runtime';
import { describe, expect, it } from 'vitest';
import { ImportJobs, type JobSummary } from './import-jobs.js';

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
