/**
 * Whether a process with this pid exists (signal 0 checks without sending anything). EPERM means it exists
 * but belongs to someone else. Used to tell a folder or lock of a live process from one a killed process
 * left behind, which is safe to take over or remove.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
