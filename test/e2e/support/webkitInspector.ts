import { spawn, type ChildProcess } from 'node:child_process';
import WebSocket from 'ws';
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
 * WebKitGTK reached through its remote inspector (WEBKIT_INSPECTOR_HTTP_SERVER), the one
 * way into a service worker: no WebDriver command and no public API delivers a push off
 * Apple platforms. The inspector cannot share a browser with WebKitWebDriver, so this
 * browser is the embedder on its own, opened on `url`, and the page is driven through the
 * inspector too.
 */
export class InspectedWebKit {
  private constructor(
    private readonly xvfb: Xvfb,
    private readonly browser: ChildProcess,
    private readonly profile: string,
    private readonly inspector: string,
    private readonly open: Set<InspectorTarget>,
  ) {}

  static async launch(url: string, options: WebKitOptions): Promise<InspectedWebKit> {
    const xvfb = await startXvfb();
    const profile = await newProfile();
    const inspector = `127.0.0.1:${await freePort()}`;
    const browser = spawn(WEBKIT_EMBEDDER, [...embedderArgs(profile, options), url], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, DISPLAY: xvfb.display, WEBKIT_INSPECTOR_HTTP_SERVER: inspector },
    });
    const launched = new InspectedWebKit(xvfb, browser, profile, inspector, new Set());
    // Its last words, for the error when it dies before a target shows up.
    browser.stderr!.on('data', (chunk) => (launched.stderr = (launched.stderr + chunk).slice(-2_000)));
    browser.on('error', (error) => (launched.stderr += String(error)));
    return launched;
  }

  private stderr = '';

  /** Connects to the first target of `type` the inspector lists (a 'WebPage' or a 'ServiceWorker'), waiting for one. */
  async connect(type: 'WebPage' | 'ServiceWorker', timeoutMs = 30_000): Promise<InspectorTarget> {
    const path = await until(async () => {
      if (this.browser.exitCode !== null || this.browser.signalCode !== null || this.browser.pid === undefined)
        throw new Error(`the WebKit embedder is not running: ${this.stderr}`);
      const list = await fetch(`http://${this.inspector}/`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.text(), () => '');
      // The inspector answers an HTML page whose buttons open /socket/{connection}/{target}/{type}.
      return new RegExp(`/socket/\\d+/\\d+/${type}`).exec(list)?.[0];
    }, `an inspectable ${type}`, timeoutMs);
    const target = await InspectorTarget.open(`ws://${this.inspector}${path}`, type == 'WebPage');
    this.open.add(target);
    return target;
  }

  async close(): Promise<void> {
    for (const target of this.open) target.close();
    await stopProcess(this.browser);
    await this.xvfb.stop();
    await removeProfile(this.profile);
  }
}

interface Message {
  id?: number;
  method?: string;
  params?: { targetInfo?: { targetId: string; type: string }; targetId?: string; message?: string };
  result?: { result: { objectId?: string; value?: unknown; description?: string }; wasThrown?: boolean };
  error?: { message: string };
}

/**
 * One inspector connection. A page's own protocol sits behind its WebPage connection's
 * Target domain (sendMessageToTarget), as WebKit's Web Inspector speaks it; a service
 * worker answers directly.
 */
export class InspectorTarget {
  private next = 0;
  private readonly waiting = new Map<number, (message: Message) => void>();
  private closed = false;
  private pageTarget?: string;

  private constructor(
    private readonly socket: WebSocket,
    private readonly viaPage: boolean,
  ) {
    socket.on('message', (text) => {
      let message = JSON.parse(String(text)) as Message;
      if (message.method == 'Target.targetCreated' && message.params?.targetInfo?.type == 'page')
        this.pageTarget = message.params.targetInfo.targetId;
      if (message.method == 'Target.dispatchMessageFromTarget') message = JSON.parse(message.params!.message!) as Message;
      if (message.id !== undefined) this.waiting.get(message.id)?.(message);
    });
    // A target that goes away (a service worker WebKit stopped) answers nothing more.
    socket.on('close', () => {
      this.closed = true;
      for (const answer of [...this.waiting.values()]) answer({ error: { message: 'the target went away' } });
    });
  }

  static async open(url: string, viaPage: boolean): Promise<InspectorTarget> {
    const socket = new WebSocket(url);
    // Listening before the socket opens: the page's target is announced right away.
    const target = new InspectorTarget(socket, viaPage);
    await new Promise((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`inspector ${url}: no connection in 10 s`)), 10_000);
      socket.once('open', () => (clearTimeout(timer), done(undefined)));
      socket.once('error', (error) => (clearTimeout(timer), fail(error)));
    });
    if (viaPage) await until(() => target.pageTarget, 'the page behind the inspector connection', 10_000);
    return target;
  }

  /**
   * Evaluates `expression` (a JavaScript expression, often an async IIFE) and answers its
   * awaited JSON value; a throw or a rejection becomes an Error with its description.
   */
  async evaluate<T>(expression: string, timeoutMs = 30_000): Promise<T> {
    const started = await this.send('Runtime.evaluate', { expression: `Promise.resolve(${expression})` }, timeoutMs);
    const settled = await this.send('Runtime.awaitPromise', { promiseObjectId: started.result!.result.objectId, returnByValue: true }, timeoutMs);
    if (settled.result!.wasThrown) throw new Error(`in WebKit: ${settled.result!.result.description}`);
    return settled.result!.result.value as T;
  }

  close(): void {
    this.socket.close();
  }

  private send(method: string, params: object, timeoutMs: number): Promise<Message> {
    if (this.closed) return Promise.reject(new Error(`inspector ${method}: the target went away`));
    const id = ++this.next;
    const command = JSON.stringify({ id, method, params });
    this.socket.send(
      this.viaPage ? JSON.stringify({ id: ++this.next, method: 'Target.sendMessageToTarget', params: { targetId: this.pageTarget, message: command } }) : command,
    );
    return new Promise((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`inspector ${method}: no answer in ${timeoutMs} ms`)), timeoutMs);
      this.waiting.set(id, (message) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        if (message.error) fail(new Error(`inspector ${method}: ${message.error.message}`));
        else if (!message.result?.result) fail(new Error(`inspector ${method}: ${JSON.stringify(message)}`));
        else done(message);
      });
    });
  }
}

/**
 * Dispatches one push at the service worker as WebKit would after decrypting it: a
 * `PushEvent` carrying `data`. An event made by script is untrusted and its own
 * `waitUntil` throws, so this one's collects the work; the answer comes once all of it
 * (the worker's whole pipeline, through its last flush) has settled.
 */
export function pushExpression(data: string | null): string {
  return `(async () => {
    const event = new PushEvent('push', ${data === null ? '{}' : `{ data: ${JSON.stringify(data)} }`});
    const work = [];
    Object.defineProperty(event, 'waitUntil', { value: (promise) => void work.push(promise) });
    self.dispatchEvent(event);
    for (let settled = -1; settled < work.length; ) {
      settled = work.length;
      await Promise.allSettled(work);
    }
    return work.length;
  })()`;
}
