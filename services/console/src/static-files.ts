import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * The console's browser files: its own small scripts (services/console/public, next to src/ and dist/,
 * so the same path works from both) and uPlot straight from node_modules — no front-end build step.
 */
const require = createRequire(import.meta.url);
const publicDir = fileURLToPath(new URL('../public/', import.meta.url));

const FILES: Record<string, { path: () => string; type: string }> = {
  'console.css': { path: () => `${publicDir}console.css`, type: 'text/css; charset=utf-8' },
  'console.js': { path: () => `${publicDir}console.js`, type: 'text/javascript; charset=utf-8' },
  'pipeline.js': { path: () => `${publicDir}pipeline.js`, type: 'text/javascript; charset=utf-8' },
  'import-job.js': { path: () => `${publicDir}import-job.js`, type: 'text/javascript; charset=utf-8' },
  'query.js': { path: () => `${publicDir}query.js`, type: 'text/javascript; charset=utf-8' },
  'uplot.js': {
    path: () => require.resolve('uplot/dist/uPlot.iife.min.js'),
    type: 'text/javascript; charset=utf-8',
  },
  'uplot.css': { path: () => require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

const cache = new Map<string, Buffer>();

/** A known static file by name (a fixed list: no path from the URL ever reaches the file system). */
export async function staticFile(name: string): Promise<{ body: Buffer; type: string } | undefined> {
  // Own keys only: `__proto__` or `constructor` would otherwise find Object.prototype's and answer 500.
  const file = Object.hasOwn(FILES, name) ? FILES[name] : undefined;
  if (!file) return undefined;
  let body = cache.get(name);
  if (body === undefined) {
    body = await readFile(file.path());
    cache.set(name, body);
  }
  return { body, type: file.type };
}
