import { describe, expect, it } from 'vitest';
import { createCircuitBreaker } from '../../../src/server/send/createCircuitBreaker.js';

function breaker(failures = 3, coolDown = 1000) {
  let now = 0;
  const circuit = createCircuitBreaker({ failures, coolDown, now: () => now });
  const fail = (host: string) => circuit.end(host, circuit.start(host), 'failed');
  return { circuit, fail, advance: (ms: number) => (now += ms) };
}

describe('createCircuitBreaker', () => {
  it('opens after consecutive failures, stays open for the cool-down, and reopens at the first failure after it', () => {
    const { circuit, fail, advance } = breaker();
    fail('a');
    fail('a');
    expect(circuit.allows('a')).toBe(true);
    fail('a');
    expect(circuit.allows('a')).toBe(false);
    expect(circuit.allows('b')).toBe(true);
    advance(999);
    expect(circuit.allows('a')).toBe(false);
    advance(1);
    expect(circuit.allows('a')).toBe(true);
    fail('a');
    expect(circuit.allows('a')).toBe(false);
  });

  it('forgets a run of failures at an answer, and counts nothing refused before connecting', () => {
    const { circuit, fail } = breaker();
    fail('a');
    fail('a');
    circuit.end('a', circuit.start('a'), 'ok');
    fail('a');
    fail('a');
    circuit.end('a', circuit.start('a'), 'neutral');
    expect(circuit.allows('a')).toBe(true);
    fail('a');
    expect(circuit.allows('a')).toBe(false);
  });

  it('lets a request to a failing host wait for the ones already in flight, and no longer than the circuit stays shut', async () => {
    const { circuit, fail } = breaker(3);
    const first = circuit.start('a');
    const second = circuit.start('a');
    fail('a');
    let waited = false;
    const wait = circuit.settled('a').then(() => (waited = true));
    // A request that starts later is not waited for.
    circuit.start('a');
    await Promise.resolve();
    circuit.end('a', first, 'failed');
    await Promise.resolve();
    expect(waited).toBe(false);
    circuit.end('a', second, 'ok');
    await wait;
    expect(waited).toBe(true);

    const healthy = breaker();
    healthy.circuit.start('b');
    // A host with no failure in its run never makes a request wait.
    await healthy.circuit.settled('b');

    const opening = breaker(2);
    const pending = opening.circuit.start('c');
    opening.fail('c');
    const waiting = opening.circuit.settled('c');
    opening.fail('c');
    await waiting;
    opening.circuit.end('c', pending, 'failed');
  });
});
