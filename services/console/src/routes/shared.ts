import type { FastifyReply } from 'fastify';
import type { ConsoleDeps } from '../app.js';

/** What every page's routes get: the console's dependencies. */
export type RouteOptions = ConsoleDeps;

export type Form = Record<string, string | string[] | undefined>;

/** The first value of a form field, trimmed ('' when absent). */
export const one = (v: string | string[] | undefined): string =>
  (Array.isArray(v) ? (v[0] ?? '') : (v ?? '')).trim();

/** Every non-empty value of a form field, trimmed. */
export const many = (v: string | string[] | undefined): string[] =>
  (Array.isArray(v) ? v : v === undefined ? [] : [v]).map((s) => s.trim()).filter((s) => s !== '');

export const sendHtml = (reply: FastifyReply, body: string, code = 200) =>
  reply.code(code).type('text/html; charset=utf-8').send(body);
