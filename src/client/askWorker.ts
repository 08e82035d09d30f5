import type { BackendAdapter } from '../shared/protocol.js';
import { MESSAGE_SOURCE, type AdapterAnswer, type AdapterCall, type PageAnswer, type PageRequest } from '../shared/protocol.js';
import { TidingsError } from '../shared/TidingsError.js';

/** A PageRequest without its `source` tag, which askWorker adds. */
export type WorkerRequest = PageRequest extends infer R ? (R extends PageRequest ? Omit<R, 'source'> : never) : never;

/**
 * Sends `request` to the tidings worker and resolves with its answer (or rejects with the
 * TidingsError it answered). Rejects with `worker-failed` when no ack comes within
 * `timeout` (the site's service worker does not load the tidings worker), or no answer
 * within five times that after it (the worker was stopped). When the worker
 * needs the site's BackendAdapter it asks through the port, and the page runs it.
 */
export function askWorker<T>(
  worker: ServiceWorker,
  request: WorkerRequest,
  adapter: BackendAdapter | undefined,
  timeout: number,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const { port1, port2 } = new MessageChannel();
    const fail = (ms: number) => setTimeout(reject, ms, new TidingsError('worker-failed', { reason: 'no answer' }));
    let timer = fail(timeout);
    port1.onmessage = ({ data, ports: [reply] }: MessageEvent<PageAnswer | AdapterCall | Record<string, never>>) => {
      clearTimeout(timer);
      // Once acked, the worker may spend its attempts and their backoff; a longer deadline
      // still ends the wait for a worker stopped mid-request.
      timer = fail(timeout * 5);
      if ('call' in data)
        new Promise((done) => done(adapter![data.call](data.arg as never))).then(
          (value): AdapterAnswer => ({ ok: true, value }),
          (error: { status?: number; details?: { status?: number } }): AdapterAnswer => ({
            ok: false,
            error: { message: String(error), status: error?.status ?? error?.details?.status },
          }),
        ).then((answer) => reply!.postMessage(answer));
      else if ('ok' in data) {
        clearTimeout(timer);
        port1.close();
        if (data.ok) resolve(data.value as T);
        else reject(new TidingsError(data.error.code, data.error.details));
      }
    };
    worker.postMessage({ source: MESSAGE_SOURCE, ...request }, [port2]);
  });
}
