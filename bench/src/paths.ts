import { join } from 'node:path';

/** bench/dist/*.js → the repository root, wherever the checkout lives. */
export const REPO_ROOT = join(import.meta.dirname, '..', '..');
export const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');
