import { readFile } from 'node:fs/promises';
import { isNode, LineCounter, parseDocument } from 'yaml';
import { type ParsedProfile, ProfileError, parseProfile } from './profile-schema.js';

/**
 * Parses a profile from YAML text. `source` names the file in every message; each issue also carries the
 * line of the offending key (or of its parent when the key is missing), so a 500-point file is easy to fix.
 */
export function parseProfileYaml(text: string, source = '<profile>'): ParsedProfile {
  const lineCounter = new LineCounter();
  // uniqueKeys (default) makes a key written twice an error instead of the last one silently winning.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ProfileError(
      source,
      doc.errors.map((e) => ({
        path: [],
        where: 'YAML',
        message: e.message.split('\n')[0] ?? e.message,
        line: lineCounter.linePos(e.pos[0]).line,
      })),
    );
  }
  const lineOf = (path: readonly PropertyKey[]): number | undefined => {
    // The deepest node that exists along the path: a missing key is reported at its parent.
    for (let depth = path.length; depth >= 0; depth--) {
      const node = doc.getIn(path.slice(0, depth) as (string | number)[], true);
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  };
  return parseProfile(doc.toJS({ maxAliasCount: 100 }), source, lineOf);
}

/** Reads and validates a profile file; throws ProfileError (or the fs error for a missing file). */
export async function loadProfile(path: string): Promise<ParsedProfile> {
  const text = await readFile(path, 'utf8');
  return parseProfileYaml(text, path);
}
