import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

// Tests import workspace packages from source, so `make test` does not depend on a stale dist/.
const root = import.meta.dirname;
const alias = Object.fromEntries(
  readdirSync(join(root, 'packages')).map((name) => [
    `@gridstream/${name}`,
    resolve(root, 'packages', name, 'src', 'index.ts'),
  ]),
);

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'unit',
          include: [
            'packages/*/src/**/*.test.ts',
            'services/*/src/**/*.test.ts',
            'bench/**/*.test.ts',
            'test/**/*.test.ts',
          ],
          exclude: ['**/*.int.test.ts', '**/node_modules/**', '**/dist/**'],
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'integration',
          include: [
            'packages/*/src/**/*.int.test.ts',
            'services/*/src/**/*.int.test.ts',
            'test/**/*.int.test.ts',
          ],
          exclude: ['**/node_modules/**', '**/dist/**'],
          // Integration tests share one Kafka, RabbitMQ and InfluxDB on a 2-core machine: run files one at a
          // time so timing-sensitive tests (restarts, lag) are not starved by each other.
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
