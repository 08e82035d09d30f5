/** The JavaScript runtimes tidings/server is tested in (docs/runtimes.md), or `other`. */
export type RuntimeName = 'node' | 'bun' | 'deno' | 'workerd' | 'other';

/**
 * The runtime this code runs in, for the few things that differ between them: the send
 * transport and how VAPID tokens are signed. Bun and Deno also set `process.versions.node`
 * (they run Node's modules), and workerd does with `nodejs_compat`, so they are asked
 * first, each by what only it has.
 */
export function runtimeName(): RuntimeName {
  const global = globalThis as { Bun?: unknown; Deno?: unknown; navigator?: { userAgent?: unknown }; process?: { versions?: { node?: unknown } } };
  if (global.Bun !== undefined) return 'bun';
  if (global.Deno !== undefined) return 'deno';
  // Cloudflare's documented way to tell a Worker: its navigator.userAgent.
  if (global.navigator?.userAgent === 'Cloudflare-Workers') return 'workerd';
  if (typeof global.process?.versions?.node === 'string') return 'node';
  return 'other';
}
