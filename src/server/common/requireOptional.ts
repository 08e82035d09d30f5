import { createRequire } from 'node:module';
import { TidingsError } from '../../shared/TidingsError.js';

// Node's own require, where bundlers leave it alone. Next.js's Turbopack replaces
// `createRequire(import.meta.url)` with a require of its own, which cannot load a package
// named at run time ("Cannot find module as expression is too dynamic", a 500 from the
// route), so tidings/server could not be bundled. process.getBuiltinModule (Node 20.16+)
// hands over the real one; older Node takes the import, through an object for the same
// reason. The peers then load from node_modules as Node resolves them (better-sqlite3 is
// native: no bundler could take it in anyway).
const { createRequire: requireFrom } = globalThis.process?.getBuiltinModule?.('node:module') ?? { createRequire };
// Resolves from tidings' own folder, where a package manager puts its peers. Made once, at
// first use (making it costs ~13 us, against ~0.3 us for a cached require; deliver calls
// it per message), not at import: workerd has no module URL to make it from, and
// importing tidings/server there must still work.
let load: ((name: string) => unknown) | undefined;

/**
 * Loads an optional peer package (`better-sqlite3`, `web-push`, `ws`, later `pg`,
 * `bullmq`) at the point of use, so a site that only uses the page and worker never
 * installs it and importing `tidings/server` never needs it. When the package is not
 * installed, throws TidingsError `missing-dependency` naming the package and the
 * command that installs it (`npm install web-push@3`), instead of Node's bare
 * "Cannot find module".
 *
 * Synchronous (a `require`), because the stores and signers that need these packages
 * are synchronous factories; every package here ships CommonJS. Node caches the module,
 * so calling it per use costs a cache lookup.
 *
 * @param name the package, as in `peerDependencies`
 * @param major the major version tidings is tested with, for the install command
 */
export function requireOptional<T>(name: string, major: string): T {
  // workerd: modules are what was bundled, nothing is found by name at run time.
  if (typeof import.meta.url !== 'string') {
    throw new TidingsError('missing-dependency', { reason: `${name}: this runtime cannot load a package by name (no require); see docs/runtimes.md`, package: name });
  }
  try {
    load ??= requireFrom(import.meta.url);
    return load(name) as T;
  } catch (cause) {
    // Only the package itself missing is ours to explain; a broken install inside it
    // (one of its own files or dependencies missing) keeps Node's own error.
    if (isNotFound(cause, name)) throw missingDependency(name, `npm install ${name}@${major}`, cause);
    throw cause;
  }
}

/** The error for a peer that is absent or unusable: names it and the command that fixes it. */
export function missingDependency(name: string, install: string, cause?: unknown): TidingsError {
  return new TidingsError('missing-dependency', { reason: `${name}: run ${install}`, package: name, install, cause });
}

function isNotFound(error: unknown, name: string): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return code === 'MODULE_NOT_FOUND' && typeof message === 'string' && message.includes(`'${name}'`);
}
