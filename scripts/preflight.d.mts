// Types of preflight.mjs, for its unit test.
export interface Requirement {
  what: string;
  /** An executable at this path. */
  path?: string;
  /** A command on PATH. */
  command?: string;
  /** A Python that can load GObject's Gio and WebKit2 4.1. */
  python?: string;
  /** The Debian packages that bring it. */
  packages: string[];
}
export function requirements(env?: NodeJS.ProcessEnv): Requirement[];
export function findMissing(env?: NodeJS.ProcessEnv): Requirement[];
export function advice(missing: Requirement[]): string;
