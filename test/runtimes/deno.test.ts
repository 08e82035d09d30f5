import { fileURLToPath } from 'node:url';
import { runtimeSuite, spawnServer } from './support/runtimeSuite.js';

// Deno from npm (devDependency `deno`), with only the permissions the site needs: the
// network on loopback (its own port, the push service, PostgreSQL, Redis), reading the package
// (dist/, node_modules/ for pg and web-push) and the environment.
const deno = fileURLToPath(new URL('../../node_modules/deno/deno', import.meta.url));
const script = fileURLToPath(new URL('fixtures/deno.mjs', import.meta.url));

const permissions = ['--allow-net=127.0.0.1,localhost', '--allow-read', '--allow-env'];

runtimeSuite('Deno', (config) => spawnServer(deno, ['run', ...permissions, script], { TIDINGS_RUNTIME_CONFIG: JSON.stringify(config) }), {
  userAgent: /^Deno\/2\./,
  postgres: true,
  script: [deno, 'run', ...permissions],
});
