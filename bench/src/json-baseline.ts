import { readFileSync } from 'node:fs';

/**
 * Messages per second that one core turns from text into objects with bare `JSON.parse` and nothing else:
 * the ceiling any parser of this format could reach on this machine, so the parser's rate is judged
 * against it. Timed in rounds of `texts.length` parses, after a warm-up that lets V8 optimise.
 */
export function jsonParseRate(texts: string[], durationMs = 3_000, warmupMs = 1_000): number {
  let sink = 0;
  const round = () => {
    for (const text of texts) sink += (JSON.parse(text) as object) === null ? 1 : 0;
  };
  const until = (ms: number) => {
    const start = performance.now();
    let n = 0;
    while (performance.now() - start < ms) {
      round();
      n += texts.length;
    }
    return { n, seconds: (performance.now() - start) / 1000 };
  };
  until(warmupMs);
  const { n, seconds } = until(durationMs);
  if (sink < 0) throw new Error('unreachable'); // keeps the parses observable
  return n / seconds;
}

/**
 * The reference gateway message (shared/reference/microgrid/sample.json) as text that strict JSON.parse
 * accepts: the file has one raw 0x08 inside a string, which the parser repairs and JSON.parse rejects.
 * Returns undefined when the reference folder is not next to the checkout.
 */
export function referenceSampleText(path: string): string | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    return undefined;
  }
  return bytes.toString('utf8').replaceAll('\u0008', '');
}
