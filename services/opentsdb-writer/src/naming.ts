/**
 * OpenTSDB's rules for metric names, tag keys and tag values (net.opentsdb.core.Tags.validateString): every
 * UTF-16 code unit must be `a-z A-Z 0-9 - _ . /`, a letter (`Character.isLetter`, so not a digit of another
 * script, not a symbol such as `°`, not half of a surrogate pair), or one of the server's
 * `tsd.core.tag.allow_specialchars`. Anything else makes OpenTSDB refuse the datapoint.
 *
 * The writer checks names itself, before sending: VictoriaMetrics takes any name, OpenTSDB refuses the
 * point, and a stream that is valid on one should be valid on the other. What happens to a name that breaks
 * the rules is the operator's choice (OPENTSDB_INVALID_CHARS): each offending character replaced by `_`
 * (the default: the reading is kept, under a name an operator recognises), or the record refused
 * (dead-lettered as `invalid_record`, nothing renamed behind anyone's back).
 */

export const REPLACEMENT = '_';

/** One UTF-16 code unit → is it a letter (Unicode category L)? Surrogate halves are not. */
const LETTER = /^\p{L}$/u;

export class NameRules {
  private readonly special: Set<number>;
  private readonly cache = new Map<string, string>();

  constructor(allowedSpecialChars = '') {
    this.special = new Set(Array.from(allowedSpecialChars, (c) => c.charCodeAt(0)));
  }

  isAllowed(code: number): boolean {
    if (code >= 97 && code <= 122) return true; // a-z
    if (code >= 65 && code <= 90) return true; // A-Z
    if (code >= 48 && code <= 57) return true; // 0-9
    if (code === 45 || code === 95 || code === 46 || code === 47) return true; // - _ . /
    if (this.special.has(code)) return true;
    if (code < 128) return false;
    if (code >= 0xd800 && code <= 0xdfff) return false; // a surrogate half is no letter to Java's isLetter(char)
    return LETTER.test(String.fromCharCode(code));
  }

  /** The characters of `name` OpenTSDB refuses, each once, in order of appearance. */
  invalidChars(name: string): string[] {
    const out: string[] = [];
    for (let i = 0; i < name.length; i++) {
      const code = name.charCodeAt(i);
      if (this.isAllowed(code)) continue;
      // Report a surrogate pair as the one character it encodes.
      const isPair = code >= 0xd800 && code <= 0xdbff && i + 1 < name.length;
      const c = isPair ? name.slice(i, i + 2) : name[i]!;
      if (isPair) i++;
      if (!out.includes(c)) out.push(c);
    }
    return out;
  }

  /**
   * `name` with every character OpenTSDB refuses replaced by `_` (a surrogate pair by one `_`). Cached with
   * a hard cap: the same few hundred device ids and field names repeat in every message.
   */
  sanitize(name: string): string {
    const hit = this.cache.get(name);
    if (hit !== undefined) return hit;
    let out = name;
    for (let i = 0; i < name.length; i++) {
      if (!this.isAllowed(name.charCodeAt(i))) {
        out = replaceInvalid(name, this);
        break;
      }
    }
    if (this.cache.size >= 20_000) this.cache.clear();
    this.cache.set(name, out);
    return out;
  }
}

function replaceInvalid(name: string, rules: NameRules): string {
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (rules.isAllowed(code)) {
      out += name[i];
      continue;
    }
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < name.length) {
      const next = name.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    out += REPLACEMENT;
  }
  return out;
}

/** `"a b"` → `" "`, for messages: which characters were at fault, quoted so a space is visible. */
export function describeChars(chars: string[]): string {
  return chars.map((c) => JSON.stringify(c)).join(', ');
}
