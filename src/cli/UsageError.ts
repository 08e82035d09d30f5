/** A bad command line: main() prints its one-line message and the usage hint, and exits 2. */
export class UsageError extends Error {}
