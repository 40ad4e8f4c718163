import { type InfluxConfig, InfluxQueryError, type InfluxSeries } from '@gridstream/influx';

/**
 * A SELECT streamed with `chunked=true`: InfluxDB answers with one JSON document per line, each holding at
 * most `chunkSize` rows. The export reads through this instead of a plain /query because a non-chunked
 * answer is cut at the server's `max-row-limit` (then only marked `partial`), which would silently drop
 * points from a backfill, and because an hour of a large site would otherwise sit in memory at once.
 */

interface ChunkDocument {
  error?: string;
  results?: { error?: string; series?: Partial<InfluxSeries>[] }[];
}

function authHeaders(cfg: InfluxConfig): Record<string, string> {
  if (cfg.api === 'v2') return cfg.token ? { authorization: `Token ${cfg.token}` } : {};
  if (cfg.username === undefined) return {};
  return {
    authorization: `Basic ${Buffer.from(`${cfg.username}:${cfg.password ?? ''}`).toString('base64')}`,
  };
}

export async function* queryInfluxChunked(
  cfg: InfluxConfig,
  influxQL: string,
  chunkSize = 10_000,
): AsyncGenerator<InfluxSeries> {
  const params = new URLSearchParams({
    db: cfg.database,
    q: influxQL,
    epoch: 'ms',
    chunked: 'true',
    chunk_size: String(chunkSize),
  });
  if (cfg.retentionPolicy) params.set('rp', cfg.retentionPolicy);
  let response: Response;
  try {
    response = await fetch(`${cfg.url.replace(/\/+$/, '')}/query?${params}`, {
      headers: authHeaders(cfg),
      signal: AbortSignal.timeout(Math.max(cfg.timeoutMs, 60_000) * 10),
    });
  } catch (error) {
    throw new InfluxQueryError((error as Error).message, undefined, { cause: error });
  }
  if (!response.ok || response.body === null) {
    const text = await response.text().catch(() => '');
    throw new InfluxQueryError(text.slice(0, 300) || response.statusText, response.status);
  }
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const bytes of response.body) {
    buffered += decoder.decode(bytes as Uint8Array, { stream: true });
    let nl = buffered.indexOf('\n');
    while (nl !== -1) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      yield* parseChunk(line, response.status);
      nl = buffered.indexOf('\n');
    }
  }
  buffered += decoder.decode();
  yield* parseChunk(buffered, response.status);
}

function* parseChunk(line: string, status: number): Generator<InfluxSeries> {
  if (line.trim() === '') return;
  let doc: ChunkDocument;
  try {
    doc = JSON.parse(line) as ChunkDocument;
  } catch {
    throw new InfluxQueryError(`not a JSON chunk: ${line.slice(0, 200)}`, status);
  }
  if (doc.error) throw new InfluxQueryError(doc.error, status);
  for (const result of doc.results ?? []) {
    if (result.error) throw new InfluxQueryError(result.error, status);
    for (const s of result.series ?? []) {
      yield { name: s.name ?? '', tags: s.tags ?? {}, columns: s.columns ?? [], values: s.values ?? [] };
    }
  }
}
