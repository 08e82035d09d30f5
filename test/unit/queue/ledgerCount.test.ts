import { describe, expect, it } from 'vitest';
import { createSendLedger, type LedgerClient } from '../../../src/queue/createSendLedger.js';

/** A client whose EVALSHA calls are held until the test settles them: only what count() uses. */
function heldClient() {
  const calls: { args: (string | number)[]; resolve(value: unknown): void; reject(error: unknown): void }[] = [];
  const client = {
    evalsha: (_sha: string, _keys: number, ...args: (string | number)[]) => new Promise((resolve, reject) => calls.push({ args, resolve, reject })),
  } as unknown as LedgerClient;
  return { client, calls };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));
/** 'pending' until the promise settles, then how. */
function stateOf(promise: Promise<void>): Promise<string> {
  return Promise.race([promise.then(() => 'resolved', () => 'rejected'), turn().then(() => 'pending')]);
}

describe('the ledger counts outcomes', () => {
  it('writes the outcomes of one turn in one call, and each count resolves only when that call has', async () => {
    const { client, calls } = heldClient();
    const ledger = createSendLedger(client, 'q');
    const a = ledger.count('m', 'sub-a', 'sent', { service: 'fcm' });
    const b = ledger.count('m', 'sub-b', 'failed', { service: 'mozilla', failure: { cause: 'http-500', host: 'push.example', sample: 'down' } });
    await turn();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args.slice(2)).toEqual(['sub-a', 'sent', 'fcm', '', '', 'sub-b', 'failed', 'mozilla', 'http-500 push.example', 'down']);
    expect(await stateOf(a)).toBe('pending');
    expect(await stateOf(b)).toBe('pending');
    calls[0]!.resolve(2);
    await expect(a).resolves.toBeUndefined();
    await expect(b).resolves.toBeUndefined();
  });

  it("rejects every count of a call that failed, and not the next turn's, which goes in a call of its own", async () => {
    const { client, calls } = heldClient();
    const ledger = createSendLedger(client, 'q');
    const a = ledger.count('m', 'sub-a', 'sent');
    const b = ledger.count('m', 'sub-b', 'gone');
    await turn();
    const c = ledger.count('m', 'sub-c', 'sent');
    await turn();
    expect(calls).toHaveLength(2);
    expect(calls[1]!.args.slice(2)).toEqual(['sub-c', 'sent', '', '', '']);
    calls[0]!.reject(new Error('connection lost'));
    await expect(a).rejects.toThrow('connection lost');
    await expect(b).rejects.toThrow('connection lost');
    expect(await stateOf(c)).toBe('pending');
    calls[1]!.resolve(1);
    await expect(c).resolves.toBeUndefined();
  });

  it('keeps the sends of one turn apart: a call per send, each under its own keys', async () => {
    const { client, calls } = heldClient();
    const ledger = createSendLedger(client, 'q');
    const a = ledger.count('m1', 'sub-a', 'sent');
    const b = ledger.count('m2', 'sub-b', 'sent');
    await turn();
    expect(calls.map((call) => call.args.slice(0, 2))).toEqual([
      ['tidings:q:send:m1', 'tidings:q:send:m1:outcomes'],
      ['tidings:q:send:m2', 'tidings:q:send:m2:outcomes'],
    ]);
    calls[1]!.reject(new Error('m2 failed'));
    calls[0]!.resolve(1);
    await expect(a).resolves.toBeUndefined();
    await expect(b).rejects.toThrow('m2 failed');
  });
});
