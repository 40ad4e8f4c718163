/** One sample of the Prometheus text exposition format. */
export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/**
 * Parses `/metrics` text. Lines it cannot read are skipped: a service exposing something odd must not
 * take the whole pipeline page down.
 */
export function parsePrometheusText(text: string): MetricSample[] {
  const out: MetricSample[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (!match) continue;
    const value = Number(match[4]);
    if (Number.isNaN(value)) continue;
    const labels: Record<string, string> = {};
    if (match[3]) {
      for (const m of match[3].matchAll(LABEL)) {
        labels[m[1]!] = m[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
      }
    }
    out.push({ name: match[1]!, labels, value });
  }
  return out;
}

/**
 * Every metric the text names: those with samples and those only declared (`# TYPE name …`), such as a
 * labelled counter nothing has counted yet.
 */
export function metricNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line.startsWith('# TYPE ')) {
      const name = line.split(/\s+/)[2];
      if (name) names.add(name);
    } else if (line !== '' && !line.startsWith('#')) {
      const match = LINE.exec(line);
      if (match) names.add(match[1]!);
    }
  }
  return names;
}

/** Sum of a metric over all its label sets (optionally only those matching `where`). */
export function sumMetric(
  samples: readonly MetricSample[],
  name: string,
  where: Record<string, string> = {},
): number | undefined {
  let total: number | undefined;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (!Object.entries(where).every(([k, v]) => s.labels[k] === v)) continue;
    total = (total ?? 0) + s.value;
  }
  return total;
}
