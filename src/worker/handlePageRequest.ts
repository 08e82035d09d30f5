import { fromBase64Url, toBase64Url } from '../shared/base64url.js';
import { createBackendSync, type BackendAdapter } from './backendSync.js';
import { getValue, setValue, withTidingsDB } from './db.js';
import type { AdapterAnswer, AdapterCall, PageAnswer, PageRequest, PromptRecord, StoredSync } from '../shared/protocol.js';
import { isTidingsError } from '../shared/TidingsError.js';
import { getSealKey } from './getSealKey.js';
import { withTimeout } from './withTimeout.js';

/** The parts of the `message` event this uses (typed structurally, so page tests can drive it too). */
interface PageRequestEvent {
  readonly ports: readonly MessagePort[];
  waitUntil(promise: Promise<unknown>): void;
}

/** Days until the soft prompt shows again after the first, second and third (and later) "later". */
const BACKOFF_DAYS = [3, 7, 30];

/**
 * Answers a page SDK request (PageRequest) on the port it came with: an empty ack at
 * once, then a PageAnswer. The worker is the one owner of IndexedDB and backend sync, so
 * tabs share one queue and one lock, and the page bundle carries neither. The caller has
 * checked that the message is a tidings one from a window of this origin.
 */
export function handlePageRequest(event: PageRequestEvent, request: PageRequest, backend?: string): void {
  const [port] = event.ports;
  if (!port) return;
  port.postMessage({});
  event.waitUntil(
    answer(request, port, backend).then(
      (value): PageAnswer => ({ ok: true, value }),
      (error: unknown): PageAnswer => {
        // `cause` may not survive structured clone; the code, status and reason do.
        const { cause, ...details } = isTidingsError(error) ? error.details : { reason: String(error) };
        return { ok: false, error: { code: isTidingsError(error) ? error.code : 'worker-failed', details } };
      },
    ).then((reply) => port.postMessage(reply)),
  );
}

/**
 * A worker configured with a backend talks to that one only: a page's message cannot
 * point it elsewhere. Without one it takes the page's (the page SDK's `backend`).
 */
async function answer(request: PageRequest, port: MessagePort, own: string | undefined): Promise<unknown> {
  if (request.kind == 'prompt') return prompt(request.later);
  const { backend, headers, timeout } = request.kind == 'state' ? { timeout: 10_000 } : request;
  const sync = createBackendSync({ backend: backend ? (own ?? backend) : adapterVia(port, timeout), headers, timeout });
  if (request.kind == 'state') {
    const { sync: last, pending } = await sync.read();
    return {
      endpoint: last?.endpoint,
      backendId: last?.backendId,
      syncedAt: last?.syncedAt,
      attributes: (pending ?? last)?.attributes,
      pending: pending && { op: pending.op, attempts: pending.attempts, lastError: pending.lastError, nextAttemptAt: pending.nextAttemptAt },
    } satisfies StoredSync;
  }
  if (request.kind == 'unsync') return sync.unregister();
  const { registration } = request;
  if (!registration) return sync.flush();
  const { sealed, vapidPublicKey, ...rest } = registration;
  // Stored normalised, so the same key written padded or in standard base64 is the same registration.
  const key = toBase64Url(fromBase64Url(vapidPublicKey) ?? new Uint8Array());
  return !!(await sync.register({ ...rest, vapidPublicKey: key, sealKey: sealed ? await getSealKey() : undefined }));
}

/**
 * The page's BackendAdapter, called through the page: its functions cannot be posted. A
 * call the page does not answer within `timeout` (the tab closed) fails like a network
 * error, so the operation stays queued and the lock is not held for ever.
 */
function adapterVia(port: MessagePort, timeout: number): BackendAdapter {
  const call = (name: AdapterCall['call'], arg: AdapterCall['arg']): Promise<never> =>
    withTimeout(
      new Promise((resolve, reject) => {
        const channel = new MessageChannel();
        channel.port1.onmessage = ({ data }: MessageEvent<AdapterAnswer>) => {
          channel.port1.close();
          if (data.ok) resolve(data.value as never);
          else reject(data.error);
        };
        port.postMessage({ call: name, arg } satisfies AdapterCall, [channel.port2]);
      }),
      timeout,
    );
  return { register: (request) => call('register', request), unregister: (id) => call('unregister', id) };
}

/** Reads the soft prompt's back-off; with `later`, pushes the next showing 3, 7, then 30 days out first. */
function prompt(later: boolean | undefined): Promise<PromptRecord | undefined> {
  return withTidingsDB(async (db) => {
    let record = await getValue(db, 'prompt');
    if (later) {
      const laters = (record?.laters ?? 0) + 1;
      record = { laters, nextAt: Date.now() + BACKOFF_DAYS[Math.min(laters, 3) - 1]! * 86_400_000 };
      await setValue(db, 'prompt', record);
    }
    return record;
  });
}
