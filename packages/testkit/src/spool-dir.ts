import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A fresh folder for a collector's disk spool. Collectors default to `.local/spool/<service>`, one per
 * machine: two collectors of one test run (or the demo's and a test's) would share it, and one would send
 * what the other had spooled — to its own topic.
 */
export function privateSpoolDir(service: string): string {
  return mkdtempSync(join(tmpdir(), `gs-spool-${service}-`));
}
