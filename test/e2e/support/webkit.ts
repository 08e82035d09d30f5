import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// WebKit (Safari's engine) as Debian ships it: WebKitGTK, which has no headless mode, so
// it runs on an Xvfb display of its own, inside a small embedder (webkit-embedder.py) that
// can pre-grant notifications, as stock MiniBrowser cannot (DESIGN.md, Testing).

/** The embedder: Debian's python3 (with python3-gi), whatever python3 comes first on PATH. */
export const WEBKIT_EMBEDDER = resolve(import.meta.dirname, 'webkit-embedder.py');

/** What the embedder is told at launch. */
export interface WebKitOptions {
  /** Runtime features, as `--features` takes them. Default: the Push API and app badges on. */
  features?: string;
  /** An origin whose notifications are granted before any page loads. */
  grant?: string;
  /** An origin whose permission prompt (reached only from a user gesture) is answered Allow. */
  allow?: string;
}

export const PUSH_FEATURES = '+PushAPI,+AppBadge';
/** No features asked for: WebKitGTK's defaults, the Push API and app badges off, as in a Safari tab on iOS. */
export const NO_PUSH_FEATURES = '';

/** The embedder's arguments, with a new persistent profile (WebKitGTK keeps a grant only on one). */
export function embedderArgs(profile: string, { features = PUSH_FEATURES, grant, allow }: WebKitOptions): string[] {
  return [
    `--profile=${profile}`,
    ...(features ? [`--features=${features}`] : []),
    ...(grant ? [`--grant=${grant}`] : []),
    ...(allow ? [`--allow=${allow}`] : []),
  ];
}

export const newProfile = (): Promise<string> => mkdtemp(join(tmpdir(), 'tidings-webkit-'));
/**
 * Removes a profile once its browser is gone. WebKit's network process may still write to
 * it for a moment, so removal is retried; a folder left in the temporary directory after
 * that is reported, not a test failure.
 */
export async function removeProfile(profile: string): Promise<void> {
  await rm(profile, { recursive: true, force: true, maxRetries: 20, retryDelay: 250 }).catch((error: Error) =>
    console.warn(`tidings: could not remove the WebKit profile ${profile}: ${error.message}`),
  );
}

/** A free TCP port on loopback (WebKitWebDriver and the inspector need one named up front). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** Polls `check` until it answers something other than undefined; throws naming `what` after `timeoutMs`. */
export async function until<T>(check: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

export interface Xvfb {
  display: string;
  stop(): Promise<void>;
}

/** Starts Xvfb on a display it picks itself (-displayfd), so runs beside other X servers never clash. */
export async function startXvfb(): Promise<Xvfb> {
  const child = spawn('Xvfb', ['-displayfd', '3', '-nolisten', 'tcp', '-screen', '0', '1280x800x24'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  let errors = '';
  child.stderr!.on('data', (chunk) => (errors += chunk));
  const number = await new Promise<string>((done, fail) => {
    let text = '';
    const timer = setTimeout(() => fail(new Error(`Xvfb did not start in 20 s: ${errors}`)), 20_000);
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (chunk) => {
      text += chunk;
      if (text.includes('\n')) clearTimeout(timer), done(text.trim());
    });
    child.on('error', (error) => (clearTimeout(timer), fail(error)));
    child.on('exit', (code) => (clearTimeout(timer), fail(new Error(`Xvfb exited (${code}): ${errors}`))));
  });
  return { display: `:${number}`, stop: () => stopProcess(child) };
}

/** Ends a child with SIGTERM, then SIGKILL after 5 s; resolves when it is gone. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await gone;
  clearTimeout(timer);
}
