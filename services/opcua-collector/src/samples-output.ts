import type { OutMessage } from '@gridstream/kafka';
import { RAW_HEADER, type Sample, type SamplesMessage } from '@gridstream/schema';
import type { CollectorMetrics } from './collector-metrics.js';

export interface OutputOptions {
  /** The collector's disk spool (openSourceSpool). */
  spool: { append(messages: OutMessage[]): void };
  endpoint: string;
  /** gs-source header: `opcua://host:port/path`. */
  source: string;
  maxPerMessage: number;
  metrics: CollectorMetrics;
}

/**
 * One endpoint's samples → samples.v1 messages (grouped per site, at most `maxPerMessage` samples each)
 * appended to the collector's disk spool, which sends them to telemetry.raw in order. An OPC UA server
 * cannot be asked to hold its values for us, so while Kafka is away they wait on disk, not in memory
 * (docs/reliability.md).
 */
export class SamplesOutput {
  constructor(private readonly options: OutputOptions) {}

  push(samples: Sample[]): void {
    if (samples.length === 0) return;
    const { spool, source, maxPerMessage, endpoint, metrics } = this.options;
    const bySite = new Map<string, Sample[]>();
    for (const s of samples) {
      const list = bySite.get(s.site);
      if (list) list.push(s);
      else bySite.set(s.site, [s]);
    }
    const receivedAt = new Date().toISOString();
    const messages: OutMessage[] = [];
    for (const [site, list] of bySite) {
      for (let i = 0; i < list.length; i += maxPerMessage) {
        const body: SamplesMessage = { v: 1, samples: list.slice(i, i + maxPerMessage) };
        messages.push({
          key: site,
          value: JSON.stringify(body),
          headers: {
            [RAW_HEADER.schema]: 'samples.v1',
            [RAW_HEADER.source]: source,
            [RAW_HEADER.receivedAt]: receivedAt,
          },
        });
      }
    }
    spool.append(messages);
    metrics.samples.inc({ endpoint }, samples.length);
    metrics.messages.inc({ endpoint }, messages.length);
  }
}
