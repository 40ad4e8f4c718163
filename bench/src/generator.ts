import { loadMicrogridGenerator, type MicrogridSiteModel } from '@gridstream/testkit';

/** The part of the simulator's generator the bench uses (loaded by the testkit from the simulator's build). */
export type MicrogridSite = MicrogridSiteModel;
export const loadGenerator = loadMicrogridGenerator;

/** Site ids as the gateway writes them (six digits); `offset` keeps one step's sites apart from another's. */
export function siteIds(count: number, offset = 0): string[] {
  return Array.from({ length: count }, (_, i) => String(offset + i + 1).padStart(6, '0'));
}

export const TIME_ZONE = 'Asia/Seoul';

export interface GeneratedMessage {
  site: string;
  /** Source instant in epoch ms: with `ms` timestamps every (site, device) point is distinct. */
  at: number;
  body: Buffer;
}

/**
 * `count` reference-shape messages round-robin over `sites`, each site one message per `spacingMs` of
 * simulated time from `startMs`: distinct timestamps, so every record is its own InfluxDB point and the
 * point count after a run is an exact check.
 */
export async function generateMessages(
  count: number,
  sites: string[],
  startMs: number,
  spacingMs = 1_000,
): Promise<{ messages: GeneratedMessage[]; recordsPerMessage: number }> {
  const gen = await loadGenerator();
  const models = sites.map((siteId, i) =>
    gen.createMicrogridSite({ siteId, seed: 1_000 + i, timestampPrecision: 'ms' }),
  );
  const messages: GeneratedMessage[] = [];
  for (let k = 0; k < count; k++) {
    const model = models[k % models.length]!;
    const at = startMs + Math.floor(k / models.length) * spacingMs + (k % models.length);
    messages.push({ site: model.siteId, at, body: model.next(new Date(at), TIME_ZONE) });
  }
  return { messages, recordsPerMessage: gen.expectedRecordCount(gen.REFERENCE_SITE_SHAPE) };
}
