import { describe, expect, it } from 'vitest';
import { createCircuitBreaker, type Admission, type RequestResult, type Ticket } from '../../../src/server/send/createCircuitBreaker.js';

function breaker(failures = 3, coolDown = 1000) {
  let now = 1_000_000;
  const circuit = createCircuitBreaker({ failures, coolDown, now: () => now });
  const go = (host: string, group = `group-of-${host}`): Ticket => {
    const admission = circuit.admit(host, group);
    if (admission.verdict !== 'go') throw new Error(`expected go, got ${JSON.stringify(admission)}`);
    return admission.ticket;
  };
  const request = (host: string, result: RequestResult, group?: string, retryAfter?: number) => circuit.end(go(host, group), result, retryAfter);
  const verdict = (host: string, group = `group-of-${host}`): Admission['verdict'] => {
    const admission = circuit.admit(host, group);
    if (admission.verdict === 'go') circuit.end(admission.ticket, 'neutral');
    return admission.verdict;
  };
  return { circuit, go, request, verdict, advance: (ms: number) => (now += ms) };
}

describe('createCircuitBreaker', () => {
  it('opens a host that answered before after consecutive failures, and is worth waiting for once', () => {
    const { circuit, request, verdict, advance } = breaker();
    request('a', 'answered');
    request('a', 'server-error');
    request('a', 'no-answer');
    expect(verdict('a')).toBe('go');
    request('a', 'no-answer');
    expect(circuit.admit('a', 'group-of-a')).toEqual({ verdict: 'open', until: 1_001_000, wait: true });
    expect(verdict('b')).toBe('go');
    advance(999);
    expect(verdict('a')).toBe('open');
    advance(1);
    // Half-open: one probe; its failure reopens at once, and a reopened host is no longer waited for.
    request('a', 'no-answer');
    expect(circuit.admit('a', 'group-of-a')).toMatchObject({ verdict: 'open', wait: false });
    advance(1000);
    request('a', 'answered');
    expect(verdict('a')).toBe('go');
  });

  it('lets one request at a time go to a host never heard from, and opens it, not worth a wait, when it stays silent', () => {
    const { circuit, go, request, verdict } = breaker(3);
    const probe = go('new');
    expect(probe).toMatchObject({ probe: true, unproven: true });
    expect(circuit.admit('new', 'group-of-new')).toEqual({ verdict: 'hold' });
    // No check without `alive`: silence from a host never heard from opens it.
    circuit.end(probe, 'no-answer');
    expect(circuit.admit('new', 'group-of-new')).toMatchObject({ verdict: 'open', wait: false });

    // An answer proves a host: after it, requests go side by side.
    request('fine', 'answered');
    const first = go('fine');
    expect(first).toMatchObject({ probe: false, unproven: false });
    expect(go('fine')).toMatchObject({ probe: false });
    circuit.end(first, 'answered');
    expect(verdict('other')).toBe('go');
  });

  it('asks a host never heard from whether it answers at all when its first push times out; a name that does not resolve is dead', async () => {
    let answers = true;
    const circuit = createCircuitBreaker({ failures: 3, coolDown: 1000, alive: async () => answers });
    const go = (origin: string) => {
      const admission = circuit.admit(origin, 'g');
      if (admission.verdict !== 'go') throw new Error(admission.verdict);
      return admission.ticket;
    };
    // Its first push hung, but it answers: an endpoint that hangs on a live host.
    expect(circuit.end(go('live'), 'no-answer')).toBe(false);
    expect(circuit.admit('live', 'g')).toEqual({ verdict: 'hold' });
    await circuit.changed('live');
    expect(go('live')).toMatchObject({ unproven: false, probe: false });
    answers = false;
    circuit.end(go('tarpit'), 'no-answer');
    await circuit.changed('tarpit');
    expect(circuit.admit('tarpit', 'g')).toMatchObject({ verdict: 'open', wait: false });
    circuit.end(go('nxdomain'), 'unresolved');
    expect(circuit.admit('nxdomain', 'g')).toMatchObject({ verdict: 'open', wait: false });
  });

  it('asks a host that answered before whether it answers at all before opening it for silence', async () => {
    let answers = true;
    let asked = 0;
    const circuit = createCircuitBreaker({ failures: 2, coolDown: 1000, alive: async () => (asked++, answers) });
    const go = () => {
      const admission = circuit.admit('a', 'a');
      if (admission.verdict !== 'go') throw new Error(admission.verdict);
      return admission.ticket;
    };
    circuit.end(go(), 'answered');
    circuit.end(go(), 'no-answer');
    circuit.end(go(), 'no-answer');
    // Being asked: everything waits for the verdict.
    expect(circuit.admit('a', 'a')).toEqual({ verdict: 'hold' });
    await circuit.changed('a');
    expect(asked).toBe(1);
    // It answers: those were endpoints that hang; the host goes on.
    const after = go();
    expect(after).toMatchObject({ probe: false });
    circuit.end(after, 'neutral');
    answers = false;
    circuit.end(go(), 'no-answer');
    circuit.end(go(), 'no-answer');
    await circuit.changed('a');
    expect(circuit.admit('a', 'a')).toMatchObject({ verdict: 'open', wait: true });
  });

  it('does not count a failure while the host answered other requests: that endpoint hangs, the host works', () => {
    const { circuit, go, request, verdict, advance } = breaker(2);
    request('a', 'answered');
    const hanging = [go('a'), go('a'), go('a')];
    advance(10);
    request('a', 'answered');
    advance(10);
    for (const ticket of hanging) circuit.end(ticket, 'no-answer');
    // Not one counted: still closed, and not even suspect (requests go side by side).
    const next = go('a');
    expect(next).toMatchObject({ probe: false });
    circuit.end(next, 'neutral');
    // Silence with no answer in between counts: two of them open it.
    request('a', 'no-answer');
    request('a', 'no-answer');
    expect(verdict('a')).toBe('open');
  });

  it('closes a push service to its hosts not heard from yet once enough of them failed, but for one probe at a time', () => {
    const { circuit, go, request, verdict, advance } = breaker(3);
    request('known.push.example', 'answered', 'push.example');
    for (let i = 0; i < 3; i++) request(`junk-${i}.push.example`, 'no-answer', 'push.example');
    // One host not heard from may probe; while it does, the others are skipped.
    const probe = go('junk-9.push.example', 'push.example');
    expect(circuit.admit('junk-10.push.example', 'push.example')).toMatchObject({ verdict: 'open', wait: false });
    // The service's working host goes on.
    expect(verdict('known.push.example', 'push.example')).toBe('go');
    circuit.end(probe, 'no-answer');
    advance(1000);
    expect(verdict('junk-11.push.example', 'push.example')).toBe('go');
  });

  it('pauses a host for its Retry-After, then lets one request go, and opens after a cool-down of 429s', () => {
    const { circuit, go, request, advance } = breaker(10, 5000);
    request('a', 'answered');
    const burst = [go('a'), go('a'), go('a')];
    for (const ticket of burst) circuit.end(ticket, 'throttled', 2000);
    expect(circuit.admit('a', 'group-of-a')).toEqual({ verdict: 'hold', until: 1_002_000 });
    advance(2000);
    const probe = go('a');
    expect(circuit.admit('a', 'group-of-a')).toEqual({ verdict: 'hold' });
    circuit.end(probe, 'throttled', 2000);
    advance(2000);
    request('a', 'throttled', undefined, 2000);
    advance(2000);
    // Throttled for a whole cool-down (5 s) with no answer in between: skipped.
    request('a', 'throttled', undefined, 2000);
    expect(circuit.admit('a', 'group-of-a')).toMatchObject({ verdict: 'open', wait: true });

    const { circuit: other, request: ask, go: goOther } = breaker(10, 60_000);
    ask('b', 'answered');
    ask('b', 'throttled', undefined, 0);
    ask('b', 'answered');
    // An answer in between ends the run of 429s.
    expect(goOther('b')).toMatchObject({ probe: false });
    expect(other.admit('b', 'group-of-b').verdict).toBe('go');
  });

  it('says when a request to a held host ends, so what waits for it can go', async () => {
    const { circuit, go } = breaker();
    const probe = go('new');
    let woken = false;
    const changed = circuit.changed('new').then(() => (woken = true));
    await Promise.resolve();
    expect(woken).toBe(false);
    circuit.end(probe, 'answered');
    await changed;
    expect(woken).toBe(true);
  });

  it('remembers a bounded number of hosts', () => {
    const { request, verdict } = breaker(1);
    request('first', 'answered');
    request('first', 'no-answer');
    expect(verdict('first')).toBe('open');
    for (let i = 0; i < 10_000; i++) request(`host-${i}`, 'answered');
    // Forgotten, so tried again: a bounded memory, not a leak.
    expect(verdict('first')).toBe('go');
  });
});
