import { randomUUID } from 'node:crypto';
import { ALARM_ACTIONS, type AlarmAction, OperatorName } from '@gridstream/schema';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { AlarmActionRefused } from '../alarm-board.js';
import { alarmHistoryPage, alarmsPage } from '../alarm-pages.js';
import { API_OPERATOR } from '../auth.js';
import { errorPage } from '../pages.js';
import { type Form, one, type RouteOptions, sendHtml } from './shared.js';

const DONE: Record<AlarmAction['action'], string> = {
  acknowledged: 'Acknowledged.',
  shelved: 'Shelved.',
  unshelved: 'Back from the shelf.',
  commented: 'Comment added.',
};

/**
 * Alarms as operators work them: the active and shelved lists, one alarm's history, and the actions
 * (acknowledge, shelve with an expiry, unshelve, comment), each published to the alarm-actions topic before
 * it is answered, so what the page confirms is what a restarted console (and Grafana) will show.
 */
export const alarmsRoutes: FastifyPluginAsync<RouteOptions> = async (app, { config, alarms, producer }) => {
  const limits = { maxShelveMinutes: config.CONSOLE_SHELVE_MAX_MINUTES };

  const perform = async (
    req: FastifyRequest,
    fields: {
      key: string;
      action: string;
      comment: string;
      minutes: string | number | undefined;
      by?: string;
    },
  ): Promise<AlarmAction> => {
    if (!(ALARM_ACTIONS as readonly string[]).includes(fields.action))
      throw new AlarmActionRefused(
        400,
        `Unknown action "${fields.action}": one of ${ALARM_ACTIONS.join(', ')}.`,
      );
    // Only a script holding the token may say who it acts for; a browser session is its login's name.
    let by = req.operator;
    if (fields.by !== undefined && fields.by !== '' && req.operator === API_OPERATOR) {
      if (!OperatorName.safeParse(fields.by).success)
        throw new AlarmActionRefused(400, '"by" must be 1 to 64 printable characters.');
      by = fields.by;
    }
    const minutes =
      fields.minutes === undefined || fields.minutes === '' ? undefined : Number(fields.minutes);
    const action = alarms.prepare(
      {
        key: fields.key,
        action: fields.action as AlarmAction['action'],
        comment: fields.comment,
        ...(minutes === undefined ? {} : { minutes }),
        by,
      },
      limits,
      { id: randomUUID(), now: Date.now() },
    );
    const value = Buffer.from(JSON.stringify(action));
    await producer.send(config.KAFKA_TOPIC_ALARM_ACTIONS, [{ key: fields.key, value }]);
    alarms.applyAction(value); // the topic's reader will see it again and skip it (same id)
    return action;
  };

  const page = (extra: { notice?: string; error?: string } = {}) =>
    alarmsPage({
      active: alarms.active(),
      shelved: alarms.shelved(),
      topic: config.KAFKA_TOPIC_ALARMS,
      invalid: alarms.invalid,
      maxShelveMinutes: limits.maxShelveMinutes,
      ...extra,
    });

  app.get('/alarms', async (req, reply) => {
    const done = (req.query as Record<string, string>).done as AlarmAction['action'] | undefined;
    return sendHtml(reply, page(done && DONE[done] ? { notice: DONE[done] } : {}));
  });
  app.get('/alarms/history', async (req, reply) => {
    const h = alarms.history(String((req.query as Record<string, string>).key ?? ''));
    if (h === undefined)
      return sendHtml(reply, errorPage('No such alarm', 'There is no alarm with this key.'), 404);
    return sendHtml(reply, alarmHistoryPage(h));
  });
  app.post('/alarms/actions', async (req, reply) => {
    const body = (req.body ?? {}) as Form;
    const key = one(body.key);
    try {
      const action = await perform(req, {
        key,
        action: one(body.action),
        comment: one(body.comment),
        minutes: one(body.minutes),
      });
      return reply.redirect(
        one(body.back) === 'history'
          ? `/alarms/history?key=${encodeURIComponent(key)}`
          : `/alarms?done=${action.action}`,
        303,
      );
    } catch (error) {
      if (!(error instanceof AlarmActionRefused)) throw error;
      return sendHtml(reply, page({ error: error.message }), error.status);
    }
  });

  app.get('/api/alarms', async () => ({
    active: alarms.active(),
    shelved: alarms.shelved(),
    invalid: alarms.invalid,
    invalidActions: alarms.invalidActions,
  }));
  app.get('/api/alarms/history', async (req, reply) => {
    const h = alarms.history(String((req.query as Record<string, string>).key ?? ''));
    return h === undefined ? reply.code(404).send({ error: 'no such alarm' }) : h;
  });
  app.post('/api/alarms/actions', async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const text = (v: unknown) => (typeof v === 'string' ? v : '');
    try {
      const action = await perform(req, {
        key: text(body.key),
        action: text(body.action),
        comment: text(body.comment),
        minutes: typeof body.minutes === 'number' ? body.minutes : text(body.minutes),
        by: text(body.by),
      });
      return reply.code(201).send(action);
    } catch (error) {
      if (!(error instanceof AlarmActionRefused)) throw error;
      return reply.code(error.status).send({ error: error.message });
    }
  });
};
