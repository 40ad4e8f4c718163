import { counter } from '@gridstream/kafka';
import type { FastifyPluginAsync } from 'fastify';
import { decodeCursor } from '../dead-letters.js';
import { deadLetterPage, deadLettersPage, errorPage } from '../pages.js';
import { type Form, many, one, type RouteOptions, sendHtml } from './shared.js';

/** `<partition>/<offset>` of a letter, as the pages and the API name them. */
export function parseLetterId(id: string): { partition: number; offset: bigint } | undefined {
  const match = /^(\d{1,6})\/(\d{1,19})$/.exec(id);
  return match ? { partition: Number(match[1]), offset: BigInt(match[2]!) } : undefined;
}

/** Dead letters: the list, one letter, and replay to the raw topic (page and API). */
export const deadLetterRoutes: FastifyPluginAsync<RouteOptions> = async (app, deps) => {
  const { logger, deadLetters } = deps;
  const replaysTotal = counter(deps.metrics, 'gridstream_console_replays_total', 'Dead letters replayed');
  const pageSize = (q: Record<string, string>) =>
    Math.min(500, Math.max(1, Number.parseInt(q.size ?? '', 10) || 50));
  app.get('/dead-letters', async (req, reply) => {
    const q = req.query as Record<string, string>;
    const size = pageSize(q);
    try {
      const page = await deadLetters.page(size, decodeCursor(q.before));
      return sendHtml(reply, deadLettersPage(page, { size, replays: deadLetters.replayCount }));
    } catch (error) {
      return sendHtml(
        reply,
        errorPage('Dead letters', `Cannot read the DLQ: ${(error as Error).message}`),
        503,
      );
    }
  });
  app.get('/api/dead-letters', async (req, reply) => {
    const q = req.query as Record<string, string>;
    try {
      const page = await deadLetters.page(pageSize(q), decodeCursor(q.before));
      return {
        total: page.total,
        next: page.next,
        items: page.items.map(({ payload, ...rest }) => ({ ...rest, payload: payload.toString('utf8') })),
      };
    } catch (error) {
      return reply.code(503).send({ error: (error as Error).message });
    }
  });
  app.get('/dead-letters/:partition/:offset', async (req, reply) => {
    const p = req.params as { partition: string; offset: string };
    const id = parseLetterId(`${p.partition}/${p.offset}`);
    if (!id) return sendHtml(reply, errorPage('Dead letter', 'Not a partition/offset.'), 400);
    try {
      const letter = await deadLetters.get(id.partition, id.offset);
      if (!letter)
        return sendHtml(reply, errorPage('Dead letter', 'No such letter (deleted by retention?).'), 404);
      return sendHtml(reply, deadLetterPage(letter));
    } catch (error) {
      return sendHtml(
        reply,
        errorPage('Dead letter', `Cannot read the DLQ: ${(error as Error).message}`),
        503,
      );
    }
  });

  const replay = async (ids: string[], override?: { id: string; payload: string }) => {
    const parsed = ids.map(parseLetterId);
    if (parsed.length === 0 || parsed.some((x) => x === undefined))
      throw new RangeError('choose letters by partition/offset');
    const overrides = override ? new Map([[override.id, Buffer.from(override.payload, 'utf8')]]) : undefined;
    const result = await deadLetters.replay(
      deps.producer,
      parsed as { partition: number; offset: bigint }[],
      overrides,
    );
    replaysTotal.inc(result.replayed.length);
    logger.info({ replayed: result.replayed, refused: result.refused }, 'dead letters replayed');
    return result;
  };
  app.post('/dead-letters/replay', async (req, reply) => {
    const body = (req.body ?? {}) as Form;
    const ids = many(body.ids);
    let override: { id: string; payload: string } | undefined;
    if (one(body.edit) === '1' && ids.length === 1 && typeof body.payload === 'string') {
      const letter =
        parseLetterId(ids[0]!) &&
        (await deadLetters.get(parseLetterId(ids[0]!)!.partition, parseLetterId(ids[0]!)!.offset));
      // Only a payload that was actually changed counts as an edit; the textarea is there either way.
      if (
        letter &&
        body.payload.replace(/\r\n/g, '\n') !== letter.payload.toString('utf8').replace(/\r\n/g, '\n')
      )
        override = { id: ids[0]!, payload: body.payload };
    }
    let flash: string;
    try {
      const result = await replay(ids, override);
      flash =
        `Replayed ${result.replayed.length} letter(s) to ${deadLetters.rawTopic}${override ? ' (with an edited payload)' : ''}.` +
        (result.refused.length > 0
          ? ` Refused: ${result.refused.map((r) => `${r.id} (${r.reason})`).join('; ')}.`
          : '');
    } catch (error) {
      flash = `Replay failed: ${(error as Error).message}`;
    }
    try {
      const page = await deadLetters.page(50);
      return sendHtml(reply, deadLettersPage(page, { size: 50, replays: deadLetters.replayCount, flash }));
    } catch (error) {
      return sendHtml(
        reply,
        errorPage('Dead letters', `${flash} (cannot list the DLQ: ${(error as Error).message})`),
        503,
      );
    }
  });
  app.post('/api/dead-letters/replay', async (req, reply) => {
    const body = (req.body ?? {}) as { ids?: unknown };
    const ids = Array.isArray(body.ids) ? body.ids.filter((x): x is string => typeof x === 'string') : [];
    try {
      return await replay(ids);
    } catch (error) {
      return reply.code(error instanceof RangeError ? 400 : 503).send({ error: (error as Error).message });
    }
  });
};
