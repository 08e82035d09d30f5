import { fileURLToPath } from 'node:url';
import { runtimeSuite, spawnServer } from './support/runtimeSuite.js';

// Bun from npm (devDependency `bun`): the binary itself, running fixtures/bun.mjs.
const bun = fileURLToPath(new URL('../../node_modules/bun/bin/bun.exe', import.meta.url));
const script = fileURLToPath(new URL('fixtures/bun.mjs', import.meta.url));

runtimeSuite('Bun', (config) => spawnServer(bun, [script], { TIDINGS_RUNTIME_CONFIG: JSON.stringify(config) }), {
  userAgent: /^Bun\/1\./,
  postgres: true,
  script: [bun],
});
