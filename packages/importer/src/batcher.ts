import { RAW_HEADER, type Sample } from '@gridstream/schema';
import type { ImportMessage } from './sink.js';

/**
 * Samples → samples.v1 messages for one table (file or sheet). A message holds consecutive rows, at most
 * `maxSamples` and about MAX_MESSAGE_CHARS of JSON (the broker refuses records over 1 MB, which no retry
 * fixes). Rows of different devices share a message: the key is the site, as for the collectors, so one
 * site's readings stay in one partition in file order.
 *
 * The message id is `<fileId>:<first line>` where fileId hashes the file's name, size and first 64 KiB:
 * re-importing the same file gives the same ids (and, downstream, the same InfluxDB points, which are keyed
 * by measurement, tags and time), so a re-run after a failure overwrites instead of duplicating.
 */
export const MAX_MESSAGE_CHARS = 256 * 1024;

export class MessageBatcher {
  private samples: Sample[] = [];
  private chars = 0;
  private firstLine = 0;

  constructor(
    private readonly key: string,
    private readonly source: string,
    private readonly idPrefix: string,
    private readonly maxSamples: number,
  ) {}

  /** Finished messages wait here until the importer takes them. */
  ready: ImportMessage[] = [];

  add(sample: Sample, line: number): void {
    const size = estimateChars(sample);
    if (this.samples.length > 0 && this.chars + size > MAX_MESSAGE_CHARS) this.ready.push(this.take());
    if (this.samples.length === 0) this.firstLine = line;
    this.samples.push(sample);
    this.chars += size;
    if (this.samples.length >= this.maxSamples) this.ready.push(this.take());
  }

  /** Ends the table: the partly filled message becomes ready too. */
  flush(): void {
    if (this.samples.length > 0) this.ready.push(this.take());
  }

  /** Takes the finished messages. */
  takeReady(): ImportMessage[] {
    const out = this.ready;
    this.ready = [];
    return out;
  }

  private take(): ImportMessage {
    const message: ImportMessage = {
      key: this.key,
      value: { v: 1, samples: this.samples },
      headers: {
        [RAW_HEADER.schema]: 'samples.v1',
        [RAW_HEADER.source]: this.source,
        [RAW_HEADER.receivedAt]: new Date().toISOString(),
        [RAW_HEADER.messageId]: `${this.idPrefix}:${this.firstLine}`,
      },
    };
    this.samples = [];
    this.chars = 0;
    return message;
  }
}

/** Rough JSON length of a sample: enough to stay well under the broker's limit, cheap per row. */
function estimateChars(s: Sample): number {
  let n = 90 + s.site.length + s.equipment.length + s.device.length;
  for (const k in s.fields) n += k.length + 26;
  return n;
}
