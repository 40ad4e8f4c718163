import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { basename, isAbsolute, relative, resolve, sep } from 'node:path';
import type { Logger } from '@gridstream/runtime';

/** The importer's progress and summary as the page shows them (contract in notes: importFiles). */
export interface JobProgress {
  file?: string;
  rowsRead: number;
  rowsSent: number;
  rowsRejected: number;
  bytesRead: number;
  bytesTotal: number;
}

export interface JobReject {
  file: string;
  line: number;
  reason: string;
  detail: string;
}

/** The parts of the importer's ImportSummary the page shows. */
export interface JobSummary {
  files: { file: string; rowsRead: number; rowsSent: number; rowsRejected: number; error?: string }[];
  rowsRead: number;
  rowsSent: number;
  rowsRejected: number;
  messagesSent: number;
  rejects: JobReject[];
  rejectsTotal: number;
  durationMs: number;
}

export type JobState = 'running' | 'done' | 'failed';

export interface ImportJob {
  id: string;
  files: string[];
  state: JobState;
  startedAt: string;
  finishedAt?: string;
  progress: JobProgress;
  summary?: JobSummary;
  error?: string;
}

export type RunImport = (onProgress: (p: JobProgress) => void) => Promise<JobSummary>;

/**
 * Import jobs running in this process. A job's progress is what the importer last REPORTED — the page
 * never extrapolates — and a job that throws ends as `failed` with the error, so the page says the job
 * died instead of showing a bar that keeps moving (the old tool's fault).
 */
export class ImportJobs {
  private readonly jobs = new Map<string, ImportJob>();
  readonly events = new EventEmitter();
  private readonly running = new Set<Promise<void>>();

  private readonly keep: number;
  private readonly logger: Logger | undefined;

  constructor(options: { keep?: number; logger?: Logger } = {}) {
    this.keep = options.keep ?? 50;
    this.logger = options.logger;
    this.events.setMaxListeners(0);
  }

  start(files: string[], run: RunImport, onEnd?: (job: ImportJob) => void): ImportJob {
    const job: ImportJob = {
      id: randomBytes(8).toString('hex'),
      files,
      state: 'running',
      startedAt: new Date().toISOString(),
      progress: { rowsRead: 0, rowsSent: 0, rowsRejected: 0, bytesRead: 0, bytesTotal: 0 },
    };
    this.jobs.set(job.id, job);
    this.prune();
    const task = (async () => {
      try {
        const summary = await run((p) => {
          job.progress = { ...p };
          this.events.emit(job.id, job);
        });
        job.summary = summary;
        job.progress = {
          ...job.progress,
          rowsRead: summary.rowsRead,
          rowsSent: summary.rowsSent,
          rowsRejected: summary.rowsRejected,
          bytesRead: job.progress.bytesTotal,
        };
        job.state = 'done';
      } catch (error) {
        job.state = 'failed';
        job.error = (error as Error).message || String(error);
        // ImportAbortedError carries how far the import got: show that, not a guess.
        const partial = (error as { summary?: JobSummary }).summary;
        if (partial && typeof partial === 'object' && Array.isArray(partial.rejects)) job.summary = partial;
      }
      job.finishedAt = new Date().toISOString();
      try {
        onEnd?.(job);
      } finally {
        this.events.emit(job.id, job);
      }
    })();
    this.running.add(task);
    // A throwing onEnd (or event listener) must not become an unhandled rejection: that stops the process.
    void task
      .catch((error: unknown) =>
        this.logger?.error({ err: error, job: job.id }, 'import job end handling failed'),
      )
      .finally(() => this.running.delete(task));
    return job;
  }

  get(id: string): ImportJob | undefined {
    return this.jobs.get(id);
  }

  list(): ImportJob[] {
    return [...this.jobs.values()].reverse();
  }

  /** Waits for running jobs (shutdown): each ends sent or failed, never half-reported. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }

  private prune(): void {
    for (const [id, job] of this.jobs) {
      if (this.jobs.size <= this.keep) break;
      if (job.state !== 'running') this.jobs.delete(id);
    }
  }
}

/**
 * A summary as the page shows it: files named by their place in the import folder, never by the server's
 * absolute path (which tells a visitor how the host is laid out). Also applied to error messages.
 */
export function inImportFolder(summary: JobSummary, folder: string): JobSummary {
  return {
    ...summary,
    files: summary.files.map((f) => ({
      ...f,
      file: folderRelative(f.file, folder),
      ...(f.error === undefined ? {} : { error: withoutFolder(f.error, folder) }),
    })),
    rejects: summary.rejects.map((r) => ({ ...r, detail: withoutFolder(r.detail, folder) })),
  };
}

/**
 * The importer's progress report as the page and the API show it: the fields of JobProgress only, the file
 * named by its place in the import folder (the live report named the server's absolute path).
 */
export function progressInImportFolder(p: JobProgress, folder: string): JobProgress {
  return {
    ...(p.file === undefined ? {} : { file: folderRelative(p.file, folder) }),
    rowsRead: p.rowsRead,
    rowsSent: p.rowsSent,
    rowsRejected: p.rowsRejected,
    bytesRead: p.bytesRead,
    bytesTotal: p.bytesTotal,
  };
}

function folderRelative(file: string, folder: string): string {
  const inside = relative(resolve(folder), resolve(folder, file));
  return inside.startsWith('..') || isAbsolute(inside) ? basename(file) : inside;
}

/** Every mention of the folder's absolute path in a message, cut down to what lies inside it. */
export function withoutFolder(message: string, folder: string): string {
  const root = resolve(folder) + sep;
  return message.split(root).join('');
}
