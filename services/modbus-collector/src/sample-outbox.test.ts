import type { OutMessage } from '@gridstream/kafka';
import { createLogger } from '@gridstream/runtime';
import { describe, expect, it } from 'vitest';
import { SampleOutbox } from './sample-outbox.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const msg = (n: number): OutMessage => ({ key: 's', value: String(n) });
const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe('SampleOutbox', () => {
  it('sends in order, one request at a time', async () => {
    const sent: string[][] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const outbox = new SampleOutbox({
      capacity: 100,
      maxBatch: 3,
      logger,
      send: async (m) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await tick();
        sent.push(m.map((x) => String(x.value)));
        inFlight--;
      },
    });
    for (let i = 0; i < 7; i++) outbox.push(msg(i));
    await outbox.flush(Date.now() + 2000);
    expect(sent.flat()).toEqual(['0', '1', '2', '3', '4', '5', '6']);
    expect(maxInFlight).toBe(1);
    expect(outbox.size).toBe(0);
  });

  it('while Kafka fails, keeps the newest `capacity` messages, drops the oldest, and delivers the rest in order later', async () => {
    let up = false;
    const sent: string[] = [];
    let dropped = 0;
    const outbox = new SampleOutbox({
      capacity: 5,
      maxBatch: 2,
      logger,
      retryBaseMs: 5,
      retryMaxMs: 10,
      onDropped: (n) => {
        dropped += n;
      },
      send: async (m) => {
        await tick(1);
        if (!up) throw new Error('broker down');
        sent.push(...m.map((x) => String(x.value)));
      },
    });
    for (let i = 0; i < 12; i++) {
      outbox.push(msg(i)); // polling never waits for Kafka
      await tick(2);
    }
    expect(dropped).toBe(7);
    expect(outbox.size).toBe(5);
    up = true;
    const left = await outbox.flush(Date.now() + 2000);
    expect(left).toBe(0);
    expect(sent).toEqual(['7', '8', '9', '10', '11']);
  });

  it('flush gives up at the deadline and reports what is left', async () => {
    const outbox = new SampleOutbox({
      capacity: 10,
      maxBatch: 10,
      logger,
      send: async () => {
        throw new Error('down');
      },
    });
    outbox.push(msg(1));
    outbox.push(msg(2));
    const started = Date.now();
    expect(await outbox.flush(Date.now() + 300)).toBe(2);
    expect(Date.now() - started).toBeLessThan(1500);
  });
});
