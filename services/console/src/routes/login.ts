import type { FastifyPluginAsync } from 'fastify';
import type { Counter } from 'prom-client';
import {
  DEFAULT_OPERATOR,
  type LoginThrottle,
  SESSION_COOKIE,
  type SessionSigner,
  safeNextPath,
  secretEquals,
} from '../auth.js';
import { loginPage } from '../pages.js';
import { type Form, one, type RouteOptions, sendHtml } from './shared.js';

export interface LoginOptions extends RouteOptions {
  signer: SessionSigner;
  /** Shared with the bearer-token check: one budget of failed guesses per address, however they come. */
  throttle: LoginThrottle;
  logins: Counter<'outcome'>;
}

/** The login form, the password check behind it, and logout (which revokes the session). */
export const loginRoutes: FastifyPluginAsync<LoginOptions> = async (
  app,
  { config, logger, signer, throttle, logins },
) => {
  app.get('/login', async (req, reply) => {
    const q = req.query as Record<string, string>;
    return sendHtml(reply, loginPage({ next: safeNextPath(q.next) }));
  });
  app.post('/login', async (req, reply) => {
    const body = (req.body ?? {}) as Form;
    const ip = req.ip;
    if (throttle.blocked(ip)) {
      logins.inc({ outcome: 'throttled' });
      return sendHtml(
        reply,
        loginPage({ next: '/', error: 'Too many failed attempts; wait a few minutes.' }),
        429,
      );
    }
    const next = safeNextPath(one(body.next));
    const password = one(body.password);
    const ok =
      password !== '' &&
      ((config.CONSOLE_PASSWORD !== undefined && secretEquals(password, config.CONSOLE_PASSWORD)) ||
        (config.CONSOLE_PASSWORD === undefined &&
          config.CONSOLE_TOKEN !== undefined &&
          secretEquals(password, config.CONSOLE_TOKEN)));
    if (!ok) {
      throttle.failed(ip);
      logins.inc({ outcome: 'failed' });
      logger.warn({ ip }, 'console login failed');
      return sendHtml(reply, loginPage({ next, error: 'Wrong password.' }), 401);
    }
    throttle.succeeded(ip);
    logins.inc({ outcome: 'ok' });
    // The name only labels alarm actions (the password is shared); control characters would corrupt the
    // audit trail, so they are dropped, and an empty name is recorded as the default.
    const operator =
      one(body.operator)
        .replace(/\p{Cc}/gu, '')
        .slice(0, 64) || DEFAULT_OPERATOR;
    reply.setCookie(SESSION_COOKIE, signer.issue(Date.now(), operator), {
      httpOnly: true,
      sameSite: 'strict',
      secure: config.CONSOLE_SECURE_COOKIES,
      path: '/',
      maxAge: signer.maxAgeSeconds,
    });
    return reply.redirect(next, 303);
  });
  app.post('/logout', async (req, reply) => {
    signer.revoke(req.cookies[SESSION_COOKIE]); // a copy of the cookie must not outlive the logout
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.redirect('/login', 303);
  });
};
