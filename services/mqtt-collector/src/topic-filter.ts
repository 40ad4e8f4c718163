/**
 * MQTT topic filters (MQTT 3.1.1 §4.7, 5.0 §4.7): `+` matches one level, `#` (last) matches the rest,
 * including the parent level itself (`a/#` matches `a`). A filter starting with a wildcard does not match
 * topics starting with `$` (`$SYS/…`). Shared subscriptions (`$share/<group>/<filter>`) are matched by
 * their filter part.
 */

/** Why a filter is unusable, or undefined when it is a valid subscription filter. */
export function filterProblem(filter: string): string | undefined {
  if (filter.length === 0) return 'must not be empty';
  if (filter.includes('\u0000')) return 'must not contain NUL';
  const levels = topicFilterOf(filter).split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1))
      return '"#" must be a whole level and the last one';
    if (level.includes('+') && level !== '+') return '"+" must be a whole level';
  }
  if (filter.startsWith('$share/')) {
    const parts = filter.split('/');
    if (parts.length < 3 || parts[1] === '' || /[+#]/.test(parts[1]!))
      return 'a shared subscription is $share/<group>/<filter>';
  }
  return undefined;
}

/** The filter a `$share/<group>/<filter>` subscription matches topics with. */
export function topicFilterOf(filter: string): string {
  if (!filter.startsWith('$share/')) return filter;
  return filter.split('/').slice(2).join('/');
}

/** True if `topic` (a concrete topic name) matches `filter`. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = topicFilterOf(filter).split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    const level = f[i]!;
    if (level === '#') return true;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/** How many levels of a matching topic are certain to exist (those before a trailing `#`). */
export function fixedLevels(filter: string): number {
  const f = topicFilterOf(filter).split('/');
  return f[f.length - 1] === '#' ? f.length - 1 : f.length;
}
