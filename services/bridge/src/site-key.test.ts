import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMicrogridSite } from '../../simulator/src/microgrid-generator.js';
import { siteIdFromBody, siteKey } from './site-key.js';

const b = (s: string) => Buffer.from(s, 'utf8');

describe('siteIdFromBody', () => {
  it('reads string and number ids with any spacing', () => {
    expect(siteIdFromBody(b('{"header":{"site_id":"000001","timestamp":"x"}}'))).toBe('000001');
    expect(siteIdFromBody(b('{"header": {\n\t"site_id" :\t "A-7" }}'))).toBe('A-7');
    expect(siteIdFromBody(b('{"header":{"site_id": 42, "x": 1}}'))).toBe('42');
    expect(siteIdFromBody(b('{"site_id":7}'))).toBe('7');
  });

  it('decodes escapes and keeps non-ASCII ids', () => {
    expect(siteIdFromBody(b('{"site_id":"a\\"b"}'))).toBe('a"b');
    expect(siteIdFromBody(b('{"site_id":"\\u00e9cole"}'))).toBe('école');
    expect(siteIdFromBody(b('{"site_id":"서울-1"}'))).toBe('서울-1');
  });

  it('gives up on anything it cannot read safely', () => {
    expect(siteIdFromBody(b('{"header":{}}'))).toBeUndefined();
    expect(siteIdFromBody(b('{"site_id":null}'))).toBeUndefined();
    expect(siteIdFromBody(b('{"site_id":""}'))).toBeUndefined();
    expect(siteIdFromBody(b('{"site_id":"unterminated'))).toBeUndefined();
    expect(siteIdFromBody(b('{"site_id":"tab\\there"}'))).toBeUndefined();
    expect(siteIdFromBody(b('{"site_id" "no colon"}'))).toBeUndefined();
    expect(siteIdFromBody(b(`{"site_id":"${'x'.repeat(200)}"}`))).toBeUndefined();
    expect(siteIdFromBody(Buffer.from([0xff, 0xfe, 0x00]))).toBeUndefined();
  });

  it('only looks at the first scanBytes bytes', () => {
    const late = b(`{"pad":"${'x'.repeat(5_000)}","header":{"site_id":"000009"}}`);
    expect(siteIdFromBody(late, 4_096)).toBeUndefined();
    expect(siteIdFromBody(late, 8_192)).toBe('000009');
    // A value cut by the window is not guessed at.
    const cut = b(`{"site_id":"000123"}`);
    expect(siteIdFromBody(cut, 15)).toBeUndefined();
    expect(siteIdFromBody(b('{"site_id":12345}'), 14)).toBeUndefined();
  });

  it('reads the reference message (with its stray control byte) and generated messages', () => {
    const sample = readFileSync(
      resolve(import.meta.dirname, '../../../../shared/reference/microgrid/sample.json'),
    );
    expect(siteIdFromBody(sample)).toBe('000001');
    const site = createMicrogridSite({ siteId: '000042', seed: 1 });
    expect(siteIdFromBody(site.next(new Date(), 'Asia/Seoul'))).toBe('000042');
  });
});

describe('siteKey', () => {
  it('prefers the body, then the routing key without its site. prefix, then no key', () => {
    expect(siteKey(b('{"header":{"site_id":"000001"}}'), 'site.000002')).toBe('000001');
    expect(siteKey(b('not json'), 'site.000002')).toBe('000002');
    expect(siteKey(b('{}'), 'plant-a')).toBe('plant-a');
    expect(siteKey(b('{}'), '')).toBeNull();
  });

  it('is fast enough to never be the bottleneck', () => {
    const body = createMicrogridSite({ siteId: '000001', seed: 1 }).next(new Date(), 'Asia/Seoul');
    const started = performance.now();
    for (let i = 0; i < 100_000; i++) siteKey(body, 'site.000001');
    const perMessageUs = ((performance.now() - started) * 1000) / 100_000;
    // RabbitMQ delivers ~26k/s here (~38 us each); the key must cost a small fraction of that.
    expect(perMessageUs).toBeLessThan(5);
  });
});
