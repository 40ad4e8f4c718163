import type { Sample } from '@gridstream/schema';

/** One run of a table's samples, in file order, ready for the sink. */
export interface ImportBatch {
  /** `gs-source` of the table: `file://<name>` or `file://<name>#<sheet>`. */
  source: string;
  samples: Sample[];
  /** `gs-message-id` of the message starting at `samples[first]`: `<idPrefix>:<its physical line>`. */
  messageId: (first: number) => string;
}

/**
 * Samples of one table (file or sheet) → batches of at most `size` consecutive samples, each with the line
 * every sample came from. The sink cuts a batch into samples.v1 messages (at most samplesPerMessage
 * samples and MAX_MESSAGE_CHARS of JSON each; the key is the site, as for the collectors, so one site's
 * readings stay in one partition in file order), and each message's id is its first sample's line.
 *
 * `<idPrefix>` is `import:<fileId>.<mapping>` where fileId hashes the file's name, size and first 64 KiB:
 * re-importing the same file the same way cuts the same messages with the same ids (batches depend on the
 * rows only, never on timing), so the parser drops the copy and a re-run after a failure duplicates nothing.
 */
export class SampleBatcher {
  private samples: Sample[] = [];
  private lines: number[] = [];

  constructor(
    private readonly source: string,
    private readonly idPrefix: string,
    private readonly size: number,
  ) {}

  /** Adds a sample read at `line`; returns the batch it completed, if it did. */
  add(sample: Sample, line: number): ImportBatch | undefined {
    this.samples.push(sample);
    this.lines.push(line);
    return this.samples.length >= this.size ? this.take() : undefined;
  }

  /** Ends the table (or what could be read of it): the partly filled batch, if any. */
  flush(): ImportBatch | undefined {
    return this.samples.length > 0 ? this.take() : undefined;
  }

  private take(): ImportBatch {
    const { idPrefix } = this;
    const lines = this.lines;
    const batch: ImportBatch = {
      source: this.source,
      samples: this.samples,
      messageId: (first) => `${idPrefix}:${lines[first]}`,
    };
    this.samples = [];
    this.lines = [];
    return batch;
  }
}
