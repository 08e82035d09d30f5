import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import {
  embedderArgs,
  freePort,
  newProfile,
  removeProfile,
  startXvfb,
  stopProcess,
  until,
  WEBKIT_EMBEDDER,
  type WebKitOptions,
  type Xvfb,
} from './webkit.js';

/**
 * WebKitGTK through Debian's WebKitWebDriver, in plain W3C WebDriver over HTTP: an element
 * click is a real user gesture, which Safari's permission rule needs. One Xvfb display
 * and one driver serve every session of a test file; each session is a new browser with
 * a new profile, inside one folder removed when the driver stops (a quitting browser's
 * network process may still write to its profile for a moment).
 */
export class WebKitDriver {
  private constructor(
    private readonly xvfb: Xvfb,
    private readonly driver: ChildProcess,
    private readonly profiles: string,
    readonly url: string,
  ) {}

  static async start(): Promise<WebKitDriver> {
    const xvfb = await startXvfb();
    const port = await freePort();
    const driver = spawn('WebKitWebDriver', [`--port=${port}`], { stdio: 'ignore', env: { ...process.env, DISPLAY: xvfb.display } });
    const url = `http://127.0.0.1:${port}`;
    const ready = () => fetch(`${url}/status`, { signal: AbortSignal.timeout(2_000) }).then((r) => (r.ok ? true : undefined), () => undefined);
    try {
      await until(ready, 'WebKitWebDriver', 20_000);
    } catch (error) {
      await stopProcess(driver);
      await xvfb.stop();
      throw error;
    }
    return new WebKitDriver(xvfb, driver, await newProfile(), url);
  }

  /** A new browser (the embedder) with a new profile. */
  async newSession(options: WebKitOptions = {}): Promise<WebKitSession> {
    const profile = await mkdtemp(join(this.profiles, 'session-'));
    const browserOptions = { binary: WEBKIT_EMBEDDER, args: ['--automation', ...embedderArgs(profile, options)] };
    // No browserName: the driver would try to match it against the embedder's and fail.
    const body = { capabilities: { alwaysMatch: { 'webkitgtk:browserOptions': browserOptions } } };
    const { sessionId } = await command<{ sessionId: string }>('POST', `${this.url}/session`, body, 60_000);
    return new WebKitSession(`${this.url}/session/${sessionId}`);
  }

  async stop(): Promise<void> {
    await stopProcess(this.driver);
    await this.xvfb.stop();
    await removeProfile(this.profiles);
  }
}

/** One browser window of a session. Every call is bounded (WebDriver's script timeout, and ours). */
export class WebKitSession {
  constructor(private readonly url: string) {}

  async navigate(url: string): Promise<void> {
    await command('POST', `${this.url}/url`, { url });
  }

  /**
   * Runs `fn(...args)` in the page and answers its (awaited) JSON value. There is no user
   * gesture: WebDriver runs scripts as the page itself would.
   */
  async run<T, A extends unknown[]>(fn: (...args: A) => T | Promise<T>, ...args: A): Promise<T> {
    const script = `return (${fn.toString()}).apply(null, arguments)`;
    return command<T>('POST', `${this.url}/execute/sync`, { script, args });
  }

  /** Clicks the element `css` selects, as a user would: a real gesture for the page. */
  async click(css: string): Promise<void> {
    const found = await command<Record<string, string>>('POST', `${this.url}/element`, { using: 'css selector', value: css });
    await command('POST', `${this.url}/element/${Object.values(found)[0]}/click`, {});
  }

  /** Ends the browser. */
  async close(): Promise<void> {
    await command('DELETE', this.url).catch(() => undefined);
  }
}

/** One WebDriver command; a WebDriver error becomes an Error carrying its message. */
async function command<T = unknown>(method: string, url: string, body?: unknown, timeoutMs = 40_000): Promise<T> {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const { value } = (await response.json()) as { value: T & { error?: string; message?: string } };
  if (!response.ok) throw new Error(`WebDriver ${method} ${new URL(url).pathname}: ${value.error}: ${value.message}`);
  return value;
}
