import { killAllServiceProcesses } from '@gridstream/testkit';

/**
 * Everything the bench creates on shared servers (topics, queues, databases, consumer groups) and every
 * process it starts is registered here, so an error, a timeout or Ctrl-C in any step still removes it: the
 * machine is shared with other engineers' integration tests, and a leftover parser in the background would
 * falsify the next run's figures.
 */
type Action = { what: string; run: () => Promise<unknown> };

const actions: Action[] = [];

/** Registers an undo step; steps run last-in first-out, each one even when an earlier one failed. */
export function onCleanup(what: string, run: () => Promise<unknown>): void {
  actions.push({ what, run });
}

/** Where a step's own cleanup starts: pass it to {@link runCleanupSince} when the step ends. */
export function cleanupMark(): number {
  return actions.length;
}

/**
 * Runs (and forgets) the steps registered since `mark` (all of them by default), so a step removes its
 * topics and databases as soon as it is done and the next step measures against an uncluttered server.
 * Failures are collected, not thrown: a cleanup problem must not hide the measurement's own error.
 */
export async function runCleanupSince(mark: number): Promise<string[]> {
  const failures: string[] = [];
  while (actions.length > mark) {
    const action = actions.pop()!;
    try {
      await action.run();
    } catch (error) {
      failures.push(`${action.what}: ${(error as Error).message}`);
    }
  }
  for (const failure of failures) process.stderr.write(`bench: cleanup failed: ${failure}\n`);
  return failures;
}

export function runCleanup(): Promise<string[]> {
  return runCleanupSince(0);
}

let installed = false;

/**
 * Services die with the bench whatever ends it: on a normal exit or an uncaught error the testkit's `exit`
 * hook SIGKILLs them (it cannot wait); on a signal they are killed and the server-side cleanup runs first
 * (bounded).
 */
export function installExitHandlers(): void {
  if (installed) return;
  installed = true;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}: stopping services and removing what the run created…\n`);
      const deadline = setTimeout(() => process.exit(130), 20_000);
      deadline.unref();
      void killAllServiceProcesses()
        .then(runCleanup)
        .finally(() => process.exit(130));
    });
  }
}
