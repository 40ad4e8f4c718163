import { RAW_HEADER } from './raw-headers.js';
import type { Sample } from './samples.js';

/**
 * The samples.v1 envelope: how samples become Kafka messages, for every source. Written once, here, and
 * used through the source seam (`@gridstream/source` re-exports it; its `push`/`send` call it). It lives in
 * the schema package, beside SamplesMessageSchema, because it needs nothing else: a reader that only builds
 * or counts messages (the importer's dry run and memory test, a soak's ledger) then does not load the Kafka
 * client (~50 MiB of RSS).
 */

/** One samples.v1 message as produced to the raw topic (an OutMessage of @gridstream/kafka). */
export interface SamplesEnvelope {
  key: string;
  value: string;
  headers: Record<string, string>;
}

/**
 * A message stops growing once its JSON would pass this many characters (one sample larger than that still
 * goes, alone). Counted in characters, not bytes, because that is what is free to count: a UTF-16 unit is at
 * most 3 bytes of UTF-8, and importers and collectors do carry non-ASCII (Korean column names and device ids
 * become field names and tags), so 256 Ki characters stay under 768 KiB on the wire — below the broker's
 * `message.max.bytes` (1 MB by default), whose refusal no retry fixes, and within one produce request of the
 * ReliableProducer (768 KiB). (The source once allowed 512 Ki characters, which Korean text could take past
 * 1.5 MB; the importer's 256 Ki was the safe one of the two.)
 */
export const MAX_MESSAGE_CHARS = 256 * 1024;

export interface EnvelopeOptions {
  /** `gs-source`: where the samples were read (`serial:///dev/ttyUSB0`, `opcua://host:4840/path`). */
  source: string;
  /** `gs-received-at`; one instant for every message of the call. */
  receivedAt: Date;
  /** At most this many samples per message. */
  maxPerMessage: number;
  maxChars?: number;
  /**
   * `gs-message-id` of each message, from the index (in `samples`) of its first sample: for input that has
   * positions of its own (the importer's `import:<file>.<mapping>:<line>`). Without it the messages have no
   * id here; the spool gives them `<spool id>-<sequence>`.
   */
  messageId?: (firstSample: number) => string;
}

/**
 * Samples → samples.v1 messages (docs/messages.md): grouped per site (the key, so one site's readings stay
 * in one partition, in order), at most `maxPerMessage` samples and about `maxChars` of JSON each, in the
 * order the samples came within a site. Headers gs-schema, gs-source, gs-received-at, and gs-message-id
 * when `messageId` is given.
 */
export function samplesMessages(samples: readonly Sample[], options: EnvelopeOptions): SamplesEnvelope[] {
  const maxChars = options.maxChars ?? MAX_MESSAGE_CHARS;
  const bySite = new Map<string, { json: string[]; index: number[] }>();
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    const json = JSON.stringify(s);
    const list = bySite.get(s.site);
    if (list) {
      list.json.push(json);
      list.index.push(i);
    } else bySite.set(s.site, { json: [json], index: [i] });
  }
  const headers = {
    [RAW_HEADER.schema]: 'samples.v1',
    [RAW_HEADER.source]: options.source,
    [RAW_HEADER.receivedAt]: options.receivedAt.toISOString(),
  };
  const messages: SamplesEnvelope[] = [];
  for (const [site, { json: list, index }] of bySite) {
    let part: string[] = [];
    let first = 0;
    let chars = 0;
    const take = () => {
      // Exactly JSON.stringify({ v: 1, samples }), without parsing every sample twice.
      messages.push({
        key: site,
        value: `{"v":1,"samples":[${part.join(',')}]}`,
        headers: options.messageId
          ? { ...headers, [RAW_HEADER.messageId]: options.messageId(first) }
          : { ...headers },
      });
      part = [];
      chars = 0;
    };
    for (let k = 0; k < list.length; k++) {
      const json = list[k]!;
      if (part.length > 0 && (part.length >= options.maxPerMessage || chars + json.length + 1 > maxChars))
        take();
      if (part.length === 0) first = index[k]!;
      part.push(json);
      chars += json.length + 1;
    }
    if (part.length > 0) take();
  }
  return messages;
}
