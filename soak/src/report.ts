import type { TimelineEntry } from './faults.js';
import type { Verdict } from './verdict.js';

export interface SoakResult {
  profile: string;
  startedAt: string;
  minutes: number;
  gateway: { published: number; confirmed: number; repeated: number };
  imported: number;
  timeline: TimelineEntry[];
  services: { name: string; starts: number; peakRssMiB: number }[];
  verdict: Verdict;
}

const n = (v: number) => v.toLocaleString('en-US');

/** The soak's result as text: faults, services, then the verdict with examples of anything wrong. */
export function formatReport(r: SoakResult): string {
  const v = r.verdict;
  const lines = [
    `soak ${r.profile}, started ${r.startedAt}, ${r.minutes} min`,
    `gateway: ${n(r.gateway.published)} published, ${n(r.gateway.confirmed)} confirmed (${n(r.gateway.repeated)} publishes repeated); import: ${n(r.imported)} rows`,
    '',
    'faults:',
    ...r.timeline.map((t) => `  ${String(t.at).padStart(5)} s  ${t.fault}: ${t.detail}`),
    '',
    'services (starts, peak RSS):',
    ...r.services.map(
      (s) =>
        `  ${s.name.padEnd(18)} ${String(s.starts).padStart(3)}  ${String(s.peakRssMiB).padStart(5)} MiB`,
    ),
    '',
    `expected: ${n(v.expected.points)} points of ${n(v.expected.devices)} (sub)devices, ${n(v.expected.rows)} archive rows`,
    `InfluxDB: ${n(v.influx.points)} points stored${v.influx.mismatches.length ? `; MISMATCHES:\n    ${v.influx.mismatches.join('\n    ')}` : ' — exact'}`,
    `archive: ${n(v.archive.rows)} rows stored, ${n(v.archive.distinct)} distinct; verify ${v.archive.verifyOk ? 'clean' : `NOT clean (${v.archive.verify.gaps} gaps, ${v.archive.verify.duplicateRecords} duplicate records, ${v.archive.verify.duplicateReadings} duplicate readings)`}`,
    ...(v.archive.mismatches.length ? ['  MISMATCHES:', ...v.archive.mismatches.map((m) => `    ${m}`)] : []),
    ...(v.archive.duplicateExamples.length
      ? ['  DUPLICATES:', ...v.archive.duplicateExamples.map((m) => `    ${m}`)]
      : []),
    ...v.collectors.map(
      (c) =>
        `${c.source}: ${n(c.spooled)} messages spooled${c.copies ? ` (+${n(c.copies)} copies of one spooled, for the parser to drop)` : ''}, ${n(c.expectedPoints)} samples polled, ${n(c.storedPoints)} stored in InfluxDB, ${n(c.archivedRows)} archive rows`,
    ),
    `dead letters: ${v.deadLetters}`,
    ...(v.problems.length ? ['problems:', ...v.problems.map((p) => `  ${p}`)] : []),
    v.ok ? 'VERDICT: PASS — nothing lost, nothing duplicated' : 'VERDICT: FAIL',
  ];
  return lines.join('\n');
}
