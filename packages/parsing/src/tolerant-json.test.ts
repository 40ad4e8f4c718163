import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import {
  controlCharPosition,
  escapeControlCharsInStrings,
  JsonDecodeError,
  parseJsonTolerant,
} from './tolerant-json.js';

const REFERENCE = new URL('../../../../shared/reference/microgrid/sample.json', import.meta.url);

function decodeError(input: Buffer | string): JsonDecodeError {
  try {
    parseJsonTolerant(input);
  } catch (err) {
    if (err instanceof JsonDecodeError) return err;
    throw err;
  }
  throw new Error('expected a JsonDecodeError');
}

describe('parseJsonTolerant', () => {
  it('parses valid JSON on the fast path without escaping anything', () => {
    expect(parseJsonTolerant(Buffer.from('{"a":[1,true,null,"x"]}'))).toEqual({
      value: { a: [1, true, null, 'x'] },
      controlCharsEscaped: 0,
    });
  });

  it('drops a UTF-8 byte order mark, from bytes and from a string', () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    expect(parseJsonTolerant(Buffer.concat([bom, Buffer.from('{"a":1}')])).value).toEqual({ a: 1 });
    expect(parseJsonTolerant('\ufeff{"a":1}').value).toEqual({ a: 1 });
  });

  it('decodes UTF-8 text, including multi-byte characters', () => {
    expect(parseJsonTolerant(Buffer.from('{"name":"미래관 °C"}')).value).toEqual({ name: '미래관 °C' });
  });

  it('turns invalid UTF-8 inside a string into U+FFFD instead of rejecting the message', () => {
    const bytes = Buffer.concat([
      Buffer.from('{"a":"x'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('y","n":1}'),
    ]);
    expect(parseJsonTolerant(bytes).value).toEqual({ a: 'x\ufffd\ufffdy', n: 1 });
  });

  it('escapes a raw control character inside a string value and counts it', () => {
    const result = parseJsonTolerant(Buffer.from('{"ip":"\b$Broker_IP","n":2}'));
    expect(result).toEqual({ value: { ip: '\b$Broker_IP', n: 2 }, controlCharsEscaped: 1 });
  });

  it('escapes raw tab, CR and LF inside strings but leaves them alone as whitespace outside', () => {
    const text = '{\r\n\t"a":\t"x\ty\nz\r",\n\t"b": 1\n}';
    expect(parseJsonTolerant(text)).toEqual({ value: { a: 'x\ty\nz\r', b: 1 }, controlCharsEscaped: 3 });
  });

  it('escapes control characters in keys, and every one of them (U+0000 to U+001F)', () => {
    const all = Array.from({ length: 32 }, (_, c) => String.fromCharCode(c)).join('');
    const result = parseJsonTolerant(`{"k\u0001":"${all}"}`);
    expect(result.controlCharsEscaped).toBe(33);
    expect(result.value).toEqual({ 'k\u0001': all });
  });

  it('tracks escaped quotes and backslashes, so string boundaries are found correctly', () => {
    const text = '{"a":"say \\"hi\\" \\\\","b":"\u0002","c":"\\\\\u0003"}';
    expect(parseJsonTolerant(text)).toEqual({
      value: { a: 'say "hi" \\', b: '\u0002', c: '\\\u0003' },
      controlCharsEscaped: 2,
    });
  });

  it('does not rewrite a control character right after a backslash (that would change the string)', () => {
    const err = decodeError('{"a":"\\\u0008","b":"\u0001"}');
    expect(err.reason).toBe('not_json');
    expect(err.message).toMatch(/even after escaping 1 control character/);
  });

  it('rejects a control character outside strings as not_json', () => {
    const err = decodeError('{"a":1,\u0008"b":2}');
    expect(err.reason).toBe('not_json');
  });

  it.each([
    ['not JSON at all', 'hello'],
    ['truncated', '{"header":{"site_id":"1","timestamp":"2023-06-09 20:3'],
    ['empty', ''],
    ['only a BOM', '\ufeff'],
    ['trailing garbage', '{"a":1} x'],
  ])('rejects %s with JSON.parse’s message in the error', (_name, text) => {
    let parseMessage = '';
    try {
      JSON.parse(text.replace('\ufeff', ''));
    } catch (err) {
      parseMessage = (err as Error).message;
    }
    const err = decodeError(Buffer.from(text));
    expect(err).toBeInstanceOf(JsonDecodeError);
    expect(err.reason).toBe('not_json');
    expect(err.message).toContain(parseMessage);
  });

  it('repairs many control characters (more than the guided repairs, then the full scan)', () => {
    const values = Array.from({ length: 20 }, (_, i) => `v${i}\u0001`);
    const text = `[${values.map((v) => `"${v}"`).join(',')}]`;
    expect(parseJsonTolerant(text)).toEqual({ value: values, controlCharsEscaped: 20 });
  });

  it('repairs control characters after multi-byte text (positions are UTF-16 indexes)', () => {
    const result = parseJsonTolerant(Buffer.from('{"이름":"미래관\u0008빌딩","n":"\u0001"}'));
    expect(result).toEqual({ value: { 이름: '미래관\b빌딩', n: '\u0001' }, controlCharsEscaped: 2 });
  });

  it('reads the reference gateway message, escaping its one raw 0x08 byte', () => {
    const bytes = readFileSync(REFERENCE);
    expect(bytes[281]).toBe(0x08);
    const result = parseJsonTolerant(bytes);
    expect(result.controlCharsEscaped).toBe(1);
    const value = result.value as { EnergyPlatformLayer: { Broker_IP: string } };
    expect(value.EnergyPlatformLayer.Broker_IP).toBe('\b$Broker_IP');
  });
});

describe('parseJsonTolerant: the repair predicted from the previous message', () => {
  // `{"k":"` is 6 characters, so each stray byte below sits at offset 6 (or 7 with the backslash).
  const teach = () => expect(parseJsonTolerant('{"k":"\u0008a","n":1}').controlCharsEscaped).toBe(1);

  it('repairs the same offset in the next message straight away, with the same result', () => {
    teach();
    const parse = vi.spyOn(JSON, 'parse');
    expect(parseJsonTolerant('{"k":"\u0007b","n":2}').controlCharsEscaped).toBe(1);
    expect(parse).toHaveBeenCalledTimes(1);
    parse.mockRestore();
    expect(parseJsonTolerant('{"k":"\u0007b","n":2}')).toEqual({
      value: { k: '\u0007b', n: 2 },
      controlCharsEscaped: 1,
    });
    const bytes = readFileSync(REFERENCE);
    const first = parseJsonTolerant(bytes);
    expect(parseJsonTolerant(bytes)).toEqual(first);
  });

  it('still finds every other control character when the predicted one is not the only one', () => {
    teach();
    expect(parseJsonTolerant('{"k":"\u0001","m":"\u0002\u0003"}')).toEqual({
      value: { k: '\u0001', m: '\u0002\u0003' },
      controlCharsEscaped: 3,
    });
  });

  it('falls back when the byte at the predicted offset is not inside a string', () => {
    teach();
    expect(() => parseJsonTolerant('{"k":1\u0008,"n":1}')).toThrow(JsonDecodeError);
    teach();
    expect(parseJsonTolerant('["abc"\n,"x\u0001"]')).toEqual({
      value: ['abc', 'x\u0001'],
      controlCharsEscaped: 1,
    });
  });

  it('does not touch a control character right after a backslash at the predicted offset', () => {
    teach();
    expect(() => parseJsonTolerant('{"":"\\\u0008"}')).toThrow(JsonDecodeError);
  });

  it('leaves clean messages on the plain fast path', () => {
    teach();
    expect(parseJsonTolerant('{"k":"abcdef"}')).toEqual({ value: { k: 'abcdef' }, controlCharsEscaped: 0 });
  });
});

describe('escapeControlCharsInStrings', () => {
  it('returns the very same string when there is nothing to escape', () => {
    const text = '{\n\t"a": "b"\n}';
    const result = escapeControlCharsInStrings(text);
    expect(result.count).toBe(0);
    expect(result.text).toBe(text);
  });

  it('writes lower-case \\u00XX escapes', () => {
    expect(escapeControlCharsInStrings('"\u0000\u001f\u000b"').text).toBe('"\\u0000\\u001f\\u000b"');
  });

  it('copes with an unterminated string and a trailing backslash', () => {
    expect(escapeControlCharsInStrings('"abc\u0001').text).toBe('"abc\\u0001');
    expect(escapeControlCharsInStrings('"abc\\').count).toBe(0);
  });
});

describe('controlCharPosition', () => {
  function errorOf(text: string): unknown {
    try {
      JSON.parse(text);
    } catch (err) {
      return err;
    }
    throw new Error('expected JSON.parse to fail');
  }

  // If a Node upgrade changes V8's message, this fails: parsing stays correct (full-scan fallback) but the
  // gateway's messages get a third slower, which is worth knowing.
  it('finds the raw 0x08 of the reference message from the JSON.parse error on this Node', () => {
    const text = readFileSync(REFERENCE, 'utf8');
    expect(controlCharPosition(errorOf(text), text)).toBe(281);
  });

  it('refuses to guess when the error is something else or the character is escaped by a backslash', () => {
    expect(controlCharPosition(errorOf('{"a":'), '{"a":')).toBe(-1);
    expect(
      controlCharPosition(new Error('Bad control character in string literal in JSON at position 1'), 'x'),
    ).toBe(-1);
    const escaped = '{"a":"\\\u0008"}';
    expect(controlCharPosition(errorOf(escaped), escaped)).toBe(-1);
  });
});
