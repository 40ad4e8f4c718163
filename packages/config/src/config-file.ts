import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

/**
 * Reads a collector's YAML or JSON file (YAML 1.2 is a superset of JSON, so one parser reads both). A file
 * that cannot be read or parsed is a problem to report with the others, never a throw: the service lists
 * every problem by name at start.
 */
export function readConfigFile(path: string): { raw?: unknown; problems: string[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return { problems: [`cannot read ${path}: ${(error as Error).message}`] };
  }
  try {
    return { raw: parseYaml(text), problems: [] };
  } catch (error) {
    return { problems: [`${path}: not valid YAML/JSON: ${(error as Error).message.split('\n')[0]}`] };
  }
}

/** A zod issue's path as it reads in the file: `endpoints[0].identity.user`; `(file)` for the root. */
export function issuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path)
    out += typeof key === 'number' ? `[${key}]` : out === '' ? String(key) : `.${String(key)}`;
  return out || '(file)';
}

/**
 * A password a config file names by path (`passwordFile`, or a `<VAR>_FILE`); a file that cannot be read
 * is a problem reported at `at` with the others. A trailing newline from `echo` or an editor is never part
 * of a password.
 */
export function readSecretFile(file: string, at: string, problems: string[]): string | undefined {
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    problems.push(`${at}: cannot read ${file}: ${(error as Error).message}`);
    return undefined;
  }
}
