import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

/**
 * Authentication of the console. Secrets are compared in constant time over fixed-length digests, so
 * neither the content nor the length of the password leaks through response timing.
 */
export function secretEquals(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

export const SESSION_COOKIE = 'gs_console';

const MAX_REVOKED = 10_000;

/** Who a login or token without a name is recorded as. */
export const DEFAULT_OPERATOR = 'operator';

/** Who a request with the bearer token acts as, unless it names someone (alarm actions' `by`). */
export const API_OPERATOR = 'api';

/**
 * A session is `<expiresAtMs>.<nonce>.<operator>.<hmac>` (operator: the name given at login, base64url, so
 * alarm actions say who did them): stateless (nothing to store), unforgeable without the
 * secret, and it expires on its own. The secret is random per process unless configured, so a
 * restarted console logs everybody out rather than trusting a secret that sat in a file.
 */
export class SessionSigner {
  private readonly secret: Buffer;
  /**
   * Sessions ended by logout, until they would have expired anyway: without this a copied cookie stays
   * good for its whole lifetime after its user logged out. Bounded: at most MAX_REVOKED entries, the
   * oldest forgotten first (only someone with a valid session can add one).
   */
  private readonly revoked = new Map<string, number>();

  constructor(
    secret: string | undefined,
    private readonly ttlMs: number,
  ) {
    this.secret = secret === undefined ? randomBytes(32) : Buffer.from(secret, 'utf8');
  }

  issue(now = Date.now(), operator = DEFAULT_OPERATOR): string {
    const body = `${now + this.ttlMs}.${randomBytes(12).toString('base64url')}.${Buffer.from(operator, 'utf8').toString('base64url')}`;
    return `${body}.${this.mac(body)}`;
  }

  /** The operator named in a valid session, or undefined when the session is not valid. */
  operator(token: string | undefined, now = Date.now()): string | undefined {
    if (!this.verify(token, now)) return undefined;
    const body = (token as string).slice(0, (token as string).lastIndexOf('.'));
    const encoded = body.split('.')[2];
    return encoded ? Buffer.from(encoded, 'base64url').toString('utf8') : DEFAULT_OPERATOR;
  }

  verify(token: string | undefined, now = Date.now()): boolean {
    if (token === undefined || token.length > 400) return false;
    const last = token.lastIndexOf('.');
    if (last <= 0) return false;
    const body = token.slice(0, last);
    const mac = Buffer.from(token.slice(last + 1), 'utf8');
    const expected = Buffer.from(this.mac(body), 'utf8');
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return false;
    const expires = Number(body.slice(0, body.indexOf('.')));
    return Number.isFinite(expires) && expires > now && !this.revoked.has(body);
  }

  /** Ends a session now (logout); an invalid or expired token is ignored. */
  revoke(token: string | undefined, now = Date.now()): void {
    if (!this.verify(token, now)) return;
    const body = (token as string).slice(0, (token as string).lastIndexOf('.'));
    for (const [key, expires] of this.revoked) if (expires <= now) this.revoked.delete(key);
    while (this.revoked.size >= MAX_REVOKED) {
      const oldest = this.revoked.keys().next().value as string;
      this.revoked.delete(oldest);
    }
    this.revoked.set(body, Number(body.slice(0, body.indexOf('.'))));
  }

  get maxAgeSeconds(): number {
    return Math.floor(this.ttlMs / 1000);
  }

  private mac(body: string): string {
    return createHmac('sha256', this.secret).update(body).digest('base64url');
  }
}

/** `Authorization: Bearer <token>` → the token, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/**
 * CSRF defence for state-changing requests (besides the SameSite=Strict cookie): the browser's Origin
 * (or, failing that, Referer) must be the console itself or an allowed origin. A request with neither
 * is refused: every browser sends Origin on a cross-site POST, so only non-browser clients omit both,
 * and those use the bearer token, which is not checked here.
 */
export function originAllowed(
  headers: { origin?: string | undefined; referer?: string | undefined; host?: string | undefined },
  allowedOrigins: readonly string[],
): boolean {
  let origin = headers.origin;
  if (origin === undefined || origin === 'null') {
    if (headers.referer === undefined) return false;
    try {
      origin = new URL(headers.referer).origin;
    } catch {
      return false;
    }
  }
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  if (headers.host !== undefined) {
    // Through URL on both sides, so `host:80` and `http://host` (default port dropped) compare equal.
    try {
      if (new URL(`${parsed.protocol}//${headers.host}`).host === parsed.host) return true;
    } catch {
      // an unparsable Host header matches nothing
    }
  }
  return allowedOrigins.some((allowed) => allowed.replace(/\/+$/, '') === parsed.origin);
}

/**
 * DNS rebinding defence: the Host a request names must be one the console is meant to be reached by — an IP
 * address (a page can only carry an IP as its origin if it is served from that IP), `localhost`, a name in
 * `allowedHosts`, or the host of an allowed origin. Otherwise a page at `evil.example`, whose DNS name is
 * re-pointed at the console's address after it loaded, would be same-origin with the console as far as the
 * browser and the Origin check are concerned.
 */
export function hostAllowed(
  host: string | undefined,
  allowedHosts: readonly string[],
  allowedOrigins: readonly string[],
): boolean {
  if (host === undefined || host === '') return false;
  let hostname: string;
  try {
    hostname = new URL(`http://${host}`).hostname.toLowerCase();
  } catch {
    return false;
  }
  const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  if (isIP(bare) !== 0 || hostname === 'localhost') return true;
  if (allowedHosts.includes(hostname)) return true;
  return allowedOrigins.some((origin) => {
    try {
      return new URL(origin).hostname.toLowerCase() === hostname;
    } catch {
      return false;
    }
  });
}

/**
 * Only local paths as a redirect target after login: `//evil.example`, `/\evil.example` or `https://…`
 * would be an open redirect. Printable ASCII only: browsers drop tab, CR and LF from URLs, so
 * `/<tab>/evil.example` turns into `//evil.example`, and a non-Latin-1 character would make writing the
 * Location header throw.
 */
export function safeNextPath(next: unknown): string {
  if (typeof next !== 'string' || !/^\/(?!\/)[\x21-\x7e]*$/.test(next) || next.includes('\\')) return '/';
  return next;
}

/**
 * Failed attempts per client address: at most `limit` in `windowMs`, then refused until the window ends.
 * Password logins and bearer tokens count together, or a script could guess the password through the
 * API's `Authorization: Bearer` (which accepts the password too) at full speed. Bounded: at most
 * `maxClients` addresses are tracked, expired windows are dropped first, then the oldest.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly limit = 10,
    private readonly windowMs = 5 * 60_000,
    private readonly maxClients = 10_000,
  ) {}

  blocked(client: string, now = Date.now()): boolean {
    const f = this.failures.get(client);
    return f !== undefined && f.resetAt > now && f.count >= this.limit;
  }

  failed(client: string, now = Date.now()): void {
    const f = this.failures.get(client);
    if (f && f.resetAt > now) {
      f.count++;
      return;
    }
    this.failures.delete(client);
    if (this.failures.size >= this.maxClients) {
      for (const [key, entry] of this.failures) if (entry.resetAt <= now) this.failures.delete(key);
      while (this.failures.size >= this.maxClients) {
        this.failures.delete(this.failures.keys().next().value as string);
      }
    }
    this.failures.set(client, { count: 1, resetAt: now + this.windowMs });
  }

  succeeded(client: string): void {
    this.failures.delete(client);
  }
}
