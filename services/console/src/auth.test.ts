import { describe, expect, it } from 'vitest';
import {
  bearerToken,
  hostAllowed,
  LoginThrottle,
  originAllowed,
  SessionSigner,
  safeNextPath,
  secretEquals,
} from './auth.js';

describe('secretEquals', () => {
  it('accepts only the exact secret, whatever the lengths', () => {
    expect(secretEquals('correct horse', 'correct horse')).toBe(true);
    expect(secretEquals('correct hors', 'correct horse')).toBe(false);
    expect(secretEquals('', 'correct horse')).toBe(false);
    expect(secretEquals('correct horse battery staple', 'correct horse')).toBe(false);
  });
});

describe('SessionSigner', () => {
  it('verifies its own sessions until they expire', () => {
    const signer = new SessionSigner(undefined, 60_000);
    const token = signer.issue(1_000_000);
    expect(signer.verify(token, 1_000_000)).toBe(true);
    expect(signer.verify(token, 1_059_999)).toBe(true);
    expect(signer.verify(token, 1_060_000)).toBe(false);
  });

  it('refuses forged, altered and foreign sessions', () => {
    const a = new SessionSigner('a'.repeat(32), 60_000);
    const b = new SessionSigner('b'.repeat(32), 60_000);
    const token = a.issue();
    expect(b.verify(token)).toBe(false);
    const [expires, nonce, mac] = token.split('.');
    expect(a.verify(`${Number(expires) + 1_000_000}.${nonce}.${mac}`)).toBe(false);
    expect(a.verify(undefined)).toBe(false);
    expect(a.verify('')).toBe(false);
    expect(a.verify('garbage')).toBe(false);
    expect(a.verify(`${token}x`)).toBe(false);
  });

  it('uses a random secret per process when none is configured', () => {
    expect(new SessionSigner(undefined, 60_000).verify(new SessionSigner(undefined, 60_000).issue())).toBe(
      false,
    );
  });
});

describe('SessionSigner.revoke (logout)', () => {
  it('ends one session, leaves others, and forgets revocations once they would have expired', () => {
    const signer = new SessionSigner('secret', 1_000);
    const a = signer.issue(0);
    const b = signer.issue(0);
    signer.revoke(a, 10);
    expect(signer.verify(a, 20)).toBe(false);
    expect(signer.verify(b, 20)).toBe(true);
    signer.revoke('garbage', 30); // ignored
    expect(signer.verify(b, 30)).toBe(true);
  });
});

describe('LoginThrottle', () => {
  it('blocks an address after the limit until its window ends; success resets it', () => {
    const t = new LoginThrottle(3, 1_000);
    for (let i = 0; i < 3; i++) t.failed('a', 0);
    expect(t.blocked('a', 500)).toBe(true);
    expect(t.blocked('b', 500)).toBe(false);
    expect(t.blocked('a', 1_000)).toBe(false); // window over
    t.failed('a', 1_000); // a new window starts with one failure
    expect(t.blocked('a', 1_001)).toBe(false);
    t.failed('c', 0);
    t.failed('c', 0);
    t.succeeded('c');
    t.failed('c', 0);
    expect(t.blocked('c', 1)).toBe(false);
  });

  it('tracks a bounded number of addresses, dropping expired windows first, then the oldest', () => {
    const t = new LoginThrottle(1, 1_000, 3);
    t.failed('old', 0); // expires at 1,000
    t.failed('x', 900);
    t.failed('y', 900);
    t.failed('z', 1_100); // full: 'old' has expired and goes
    expect(t.blocked('x', 1_100)).toBe(true);
    expect(t.blocked('y', 1_100)).toBe(true);
    expect(t.blocked('z', 1_100)).toBe(true);
    t.failed('w', 1_200); // full, nothing expired: the oldest ('x') goes
    expect(t.blocked('x', 1_200)).toBe(false);
    expect(t.blocked('w', 1_200)).toBe(true);
  });
});

describe('bearerToken', () => {
  it('reads Authorization: Bearer', () => {
    expect(bearerToken('Bearer abc.def')).toBe('abc.def');
    expect(bearerToken('bearer abc')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});

describe('originAllowed (CSRF)', () => {
  it('allows the console itself and configured origins', () => {
    expect(originAllowed({ origin: 'http://127.0.0.1:8080', host: '127.0.0.1:8080' }, [])).toBe(true);
    expect(
      originAllowed({ origin: 'https://ops.example.com', host: '10.0.0.5:8080' }, [
        'https://ops.example.com/',
      ]),
    ).toBe(true);
    expect(originAllowed({ referer: 'http://127.0.0.1:8080/dead-letters', host: '127.0.0.1:8080' }, [])).toBe(
      true,
    );
  });

  it('refuses other sites and requests without any origin', () => {
    expect(originAllowed({ origin: 'http://evil.example', host: '127.0.0.1:8080' }, [])).toBe(false);
    expect(originAllowed({ origin: 'http://127.0.0.1:8081', host: '127.0.0.1:8080' }, [])).toBe(false);
    expect(originAllowed({ origin: 'null', host: '127.0.0.1:8080' }, [])).toBe(false);
    expect(originAllowed({ host: '127.0.0.1:8080' }, [])).toBe(false);
    expect(originAllowed({ referer: 'not a url', host: '127.0.0.1:8080' }, [])).toBe(false);
  });
});

describe('hostAllowed (DNS rebinding)', () => {
  it('accepts IP addresses, localhost, configured names and the hosts of allowed origins', () => {
    for (const host of ['127.0.0.1:8090', '10.0.0.5', '[::1]:8090', 'localhost:8090', 'LOCALHOST'])
      expect(hostAllowed(host, [], [])).toBe(true);
    expect(hostAllowed('ops.example.com', ['ops.example.com'], [])).toBe(true);
    expect(hostAllowed('Ops.Example.com:443', ['ops.example.com'], [])).toBe(true);
    expect(hostAllowed('console.site.example', [], ['https://console.site.example'])).toBe(true);
  });

  it('refuses any other name, a missing Host and garbage', () => {
    expect(hostAllowed('evil.example:8090', [], [])).toBe(false);
    expect(hostAllowed('localhost.evil.example', [], [])).toBe(false);
    expect(hostAllowed('ops.example.com.evil.example', ['ops.example.com'], [])).toBe(false);
    expect(hostAllowed(undefined, [], [])).toBe(false);
    expect(hostAllowed('', [], [])).toBe(false);
    expect(hostAllowed('a b', [], [])).toBe(false);
  });
});

describe('safeNextPath', () => {
  it('keeps local paths and refuses open redirects', () => {
    expect(safeNextPath('/dead-letters?before=0:5')).toBe('/dead-letters?before=0:5');
    expect(safeNextPath('//evil.example/x')).toBe('/');
    expect(safeNextPath('https://evil.example')).toBe('/');
    expect(safeNextPath('/\\evil.example')).toBe('/');
    expect(safeNextPath(undefined)).toBe('/');
    expect(safeNextPath('/a\\b')).toBe('/');
  });

  it('refuses control characters, spaces and non-ASCII (browsers drop tab/CR/LF: /<tab>/x is //x)', () => {
    expect(safeNextPath('/\t/evil.example')).toBe('/');
    expect(safeNextPath('/\r\n/evil.example')).toBe('/');
    expect(safeNextPath('/\n/evil.example')).toBe('/');
    expect(safeNextPath('/ /evil.example')).toBe('/');
    expect(safeNextPath('/alarms\x00')).toBe('/');
    expect(safeNextPath('/alarms\x7f')).toBe('/');
    expect(safeNextPath('/caf\u00e9')).toBe('/');
    expect(safeNextPath('/\u2028/evil.example')).toBe('/');
    expect(safeNextPath('/\u{1F600}')).toBe('/');
    expect(safeNextPath('')).toBe('/');
    expect(safeNextPath('/')).toBe('/');
    expect(safeNextPath('/import/file?name=a%20b.csv&x=~')).toBe('/import/file?name=a%20b.csv&x=~');
  });
});
