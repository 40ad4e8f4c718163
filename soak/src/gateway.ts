import { AmqpPublisher, amqpConfigFromEnv, amqpEnvSchema } from '@gridstream/amqp';
import { loadMicrogridGenerator, type MicrogridSiteModel } from '@gridstream/testkit';

export const GATEWAY_ZONE = 'Asia/Seoul';

/** One message the broker confirmed: the soak expects each of them exactly once downstream. */
export interface LedgerEntry {
  id: string;
  site: string;
  body: Buffer;
}

/**
 * The microgrid gateway of the soak: reference-shape messages from `sites` sites at `rate` per second,
 * each published on a confirm channel until RabbitMQ confirms it (a broker restart makes it publish again,
 * as a real gateway does; the message id lets the pipeline recognise the repeat). The ledger holds the id
 * of every confirmed message; `onConfirmed` sees each one once (its payload is not kept).
 */
export class Gateway {
  readonly ledger = new Set<string>();
  published = 0;
  republished = 0;
  private readonly publisher: AmqpPublisher;
  private models: MicrogridSiteModel[] = [];
  private stopping = false;
  private readonly inFlight = new Set<Promise<void>>();
  private loop: Promise<void> | undefined;

  constructor(
    amqpUrl: string,
    private readonly sites: number,
    private readonly onConfirmed: (entry: LedgerEntry) => void,
  ) {
    const amqp = amqpConfigFromEnv(amqpEnvSchema.parse({ AMQP_URL: amqpUrl }));
    this.publisher = new AmqpPublisher({ amqp, declare: 'topology', connectionName: 'soak-gateway' });
  }

  async start(rate: number, total: number): Promise<void> {
    const gen = await loadMicrogridGenerator();
    this.models = Array.from({ length: this.sites }, (_, i) =>
      gen.createMicrogridSite({ siteId: String(900_001 + i), seed: 77 + i, timestampPrecision: 'ms' }),
    );
    await this.publisher.connect(60_000);
    this.loop = this.run(rate, total);
  }

  /** Resolves when every scheduled message is published and confirmed. */
  async finished(): Promise<void> {
    await this.loop;
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop?.catch(() => undefined);
    await this.publisher.close();
  }

  get confirmed(): number {
    return this.ledger.size;
  }

  private async run(rate: number, total: number): Promise<void> {
    const start = Date.now();
    for (let n = 0; n < total && !this.stopping; n++) {
      const due = start + (n * 1000) / rate;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      // Back-pressure: while RabbitMQ is away, do not pile up more than a few seconds of messages.
      while (this.inFlight.size > rate * 30 && !this.stopping) await Promise.race([...this.inFlight]);
      const model = this.models[n % this.models.length]!;
      // Source times follow the schedule (with ms precision, two messages of a site never share one).
      const body = model.next(new Date(due), GATEWAY_ZONE);
      const entry: LedgerEntry = { id: `${model.siteId}-${model.sequence}`, site: model.siteId, body };
      const p = this.publish(entry).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
      this.published++;
    }
  }

  private async publish(entry: LedgerEntry): Promise<void> {
    for (let attempt = 0; !this.stopping; attempt++) {
      try {
        await this.publisher.publish(`site.${entry.site}`, entry.body, {
          messageId: entry.id,
          contentType: 'application/json',
          appId: 'gridstream-soak',
        });
        if (!this.ledger.has(entry.id)) {
          this.ledger.add(entry.id);
          this.onConfirmed(entry);
        }
        return;
      } catch {
        this.republished++;
        await new Promise((r) => setTimeout(r, Math.min(5_000, 200 * 2 ** Math.min(attempt, 5))));
      }
    }
  }
}
