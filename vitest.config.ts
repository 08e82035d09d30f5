import { defineConfig } from 'vitest/config';
import { dashboardAssets } from './scripts/dashboardAssets.mjs';

// Six projects: logic in Node, page logic in happy-dom, the browser suites that drive
// real Chromium, Firefox and WebKit against the built bundles, the package as installed
// from its tarball, the server in Bun, Deno and workerd (docs/runtimes.md), and the recipes
// (docs/recipes.md: Vite, Serwist, Next.js) built with the real tools and run in Chromium
// (the last four after `npm run build`).
export default defineConfig({
  test: {
    projects: [
      {
        // The dashboard's handler imports its built pages ('tidings:dashboard-assets').
        plugins: [dashboardAssets()],
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
      {
        test: {
          // The packed tarball installed into fresh projects (after `npm run build`): what
          // a user's npm install gets. Setup packs and installs once for all the files.
          name: 'package',
          environment: 'node',
          include: ['test/package/**/*.test.ts'],
          globalSetup: ['test/package/support/installPacked.ts'],
          // tsc over the installed types takes 10-15 s on two busy cores.
          testTimeout: 120_000,
        },
      },
      {
        test: {
          // The handler and send() in Bun, Deno and workerd, their real binaries from npm,
          // against the built dist (after `npm run build`); docs/runtimes.md.
          name: 'runtimes',
          environment: 'node',
          include: ['test/runtimes/**/*.test.ts'],
          // One runtime at a time on two shared cores.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'recipes',
          environment: 'node',
          include: ['test/recipes/**/*.test.ts'],
          // One browser and one Vite at a time on two shared cores.
          fileParallelism: false,
          testTimeout: 60_000,
          // Setting up builds the app with Vite and launches Chromium.
          hookTimeout: 90_000,
        },
      },
    ],
  },
});
