import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { repoRoot } from './tidings.js';

/** The repository's Next.js (a devDependency), run as its own CLI, as `npx next` would. */
const nextBin = join(repoRoot, 'node_modules/next/dist/bin/next');

/**
 * The environment of every Next.js process the recipes start: telemetry off, so nothing
 * leaves the machine (the app loads no next/font either), and no inherited NODE_ENV
 * (vitest sets `test`, which `next build` warns about and `next start` must not see).
 */
function nextEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const { NODE_ENV: _vitests, ...inherited } = process.env;
  return { ...inherited, NEXT_TELEMETRY_DISABLED: '1', ...env };
}

/** Runs `next build` in `appDir`; rejects with its output when it fails. */
export function nextBuild(appDir: string, env: Record<string, string>): Promise<void> {
  const child = spawn(process.execPath, [nextBin, 'build'], { cwd: appDir, env: nextEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const output = collect(child);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`next build exited ${code}:\n${output()}`))));
  });
}

export interface NextServer {
  /** http://127.0.0.1:port */
  origin: string;
  /** What the server printed so far (its route handlers' console.error included). */
  output(): string;
  close(): Promise<void>;
}

/** `next start` on a free port of 127.0.0.1, once it answers HTTP. */
export async function nextStart(appDir: string, env: Record<string, string>): Promise<NextServer> {
  const port = await freePort();
  const child = spawn(process.execPath, [nextBin, 'start', '--hostname', '127.0.0.1', '--port', String(port)], {
    cwd: appDir,
    env: nextEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = collect(child);
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const origin = `http://127.0.0.1:${port}`;
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`next start exited ${child.exitCode}:\n${output()}`);
      // Any answer means it listens; the page itself is checked by the test.
      if (await fetch(origin, { method: 'HEAD' }).then(() => true, () => false)) break;
      if (Date.now() > deadline) throw new Error(`next start did not answer within 30 s:\n${output()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { origin, output, close };
}

/** A port nobody listens on now: the OS picks it, then it is released for Next to take. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function collect(child: ChildProcess): () => string {
  let text = '';
  child.stdout?.on('data', (chunk) => (text += chunk));
  child.stderr?.on('data', (chunk) => (text += chunk));
  return () => text;
}
