import { describe, expect, it } from 'vitest';
import { askWorker } from '../../../src/client/askWorker.js';

/** A service worker stand-in that answers each request's port with `replies`. */
function workerThatReplies(...replies: object[]): ServiceWorker {
  return {
    postMessage(_message: unknown, [port]: MessagePort[]) {
      for (const reply of replies) port!.postMessage(reply);
    },
  } as unknown as ServiceWorker;
}

describe('askWorker', () => {
  it('resolves with the answer after the ack', async () => {
    const worker = workerThatReplies({}, { ok: true, value: 42 });
    await expect(askWorker(worker, { kind: 'state' } as never, undefined, 100)).resolves.toBe(42);
  });

  it('rejects with the TidingsError the worker answered', async () => {
    const worker = workerThatReplies({}, { ok: false, error: { code: 'backend-failed', details: { status: 422 } } });
    await expect(askWorker(worker, { kind: 'state' } as never, undefined, 100)).rejects.toMatchObject({
      code: 'backend-failed',
      details: { status: 422 },
    });
  });

  it('fails with worker-failed when nothing acks: the site did not load the tidings worker', async () => {
    await expect(askWorker(workerThatReplies(), { kind: 'state' } as never, undefined, 20)).rejects.toMatchObject({
      code: 'worker-failed',
    });
  });

  it('fails with worker-failed when the worker acks and then never answers', async () => {
    const started = Date.now();
    await expect(askWorker(workerThatReplies({}), { kind: 'state' } as never, undefined, 20)).rejects.toMatchObject({
      code: 'worker-failed',
    });
    // Five times the ack timeout: the worker may spend its retries first.
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
  });
});
