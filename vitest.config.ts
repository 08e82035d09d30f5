import { defineConfig } from 'vitest/config';

// Three projects: logic in Node, page logic in happy-dom, and the browser suites that
// drive real Chromium and Firefox against the built bundles (run after `npm run build`).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          environment: 'node',
          include: ['test/unit/**/*.test.ts', 'test/interop/**/*.test.ts'],
          exclude: ['test/unit/client/**'],
        },
      },
      {
        test: {
          name: 'unit-dom',
          environment: 'happy-dom',
          include: ['test/unit/client/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'browser',
          environment: 'node',
          include: ['test/e2e/**/*.test.ts'],
          // Two cores: one browser at a time keeps timings and push delivery reliable.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
