import { createConnection } from 'node:net';

// The PostgreSQL and Redis that tests use are real servers (.ci/run starts them and
// exports their URLs). Without one, CI fails and a developer machine skips those tests,
// saying so loudly and how to start it.

export const postgresUrl = process.env.TIDINGS_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const redisUrl = process.env.TIDINGS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const howToStart = {
  PostgreSQL: 'pg_ctlcluster 15 main start (Debian package postgresql), or set TIDINGS_TEST_POSTGRES_URL',
  Redis: 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no, or set TIDINGS_TEST_REDIS_URL',
} as const;

const answers = new Map<string, Promise<boolean>>();

/**
 * True when the server of `url` accepts a TCP connection. With CI set, a missing server
 * throws, failing the run; elsewhere it prints why the tests that need it are skipped.
 */
export async function serviceAnswers(name: keyof typeof howToStart, url: string): Promise<boolean> {
  let answer = answers.get(url);
  if (!answer) {
    const { hostname, port } = new URL(url);
    answer = new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: hostname || '127.0.0.1', port: Number(port) || (name === 'Redis' ? 6379 : 5432) });
      socket.setTimeout(2000);
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('timeout', () => (socket.destroy(), resolve(false)));
      socket.once('error', () => resolve(false));
    });
    answers.set(url, answer);
  }
  if (await answer) return true;
  const message = `${name} does not answer at ${url}: start it with ${howToStart[name]}`;
  if (process.env.CI) throw new Error(`${message} (CI is set, so this fails the run)`);
  console.warn(`\n!!! SKIPPING tests that need ${name}. ${message}\n`);
  return false;
}

/** A name no earlier run used: the servers keep what earlier runs left. */
export function freshName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}
