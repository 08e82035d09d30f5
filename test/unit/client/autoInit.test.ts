import { describe, expect, it, vi } from 'vitest';
import { autoInit } from '../../../src/client/autoInit.js';
import { KEY, settle, until, useEnv } from './support/setup.js';

const env = useEnv();
const tag = (attributes: Record<string, string>) => {
  const script = document.createElement('script');
  for (const [name, value] of Object.entries(attributes)) script.setAttribute(name, value);
  return script;
};

describe('autoInit (the script tag)', () => {
  it('does nothing without data-vapid-public-key', async () => {
    expect(autoInit(tag({ 'data-backend': '/api' }))).toBeUndefined();
    expect(autoInit(null)).toBeUndefined();
  });

  it('creates a client from the data attributes and wires subscribe and unsubscribe elements, added later too', async () => {
    const client = autoInit(
      tag({ 'data-vapid-public-key': KEY.text, 'data-backend': env.backend.url, 'data-service-worker': '/push-sw.js' }),
    );
    expect(client).toBeDefined();
    document.body.innerHTML = '<button data-tidings-subscribe><span>Notify me</span></button><a data-tidings-unsubscribe href="#">Stop</a>';
    document.querySelector('span')!.click();
    expect(env.browser.prompts).toBe(1);
    await until(() => env.backend.requests.length == 1);
    expect(env.browser.container.registerCalls).toEqual(['/push-sw.js']);
    document.querySelector('a')!.click();
    await until(() => env.backend.requests.length == 2);
    expect(env.backend.requests.map((r) => r.method)).toEqual(['POST', 'DELETE']);
    // The click's unsubscribe() still reads the state after the DELETE: let it finish before teardown.
    await settle();
  });

  it('reports a bad attribute on the console, saying why, instead of breaking the page', () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(autoInit(tag({ 'data-vapid-public-key': 'nope' }))).toBeUndefined();
    expect(autoInit(tag({ 'data-vapid-public-key': KEY.text, 'data-backend': 'api/push' }))).toBeUndefined();
    expect(autoInit(tag({ 'data-vapid-public-key': KEY.text, 'data-register-service-worker': 'eager' }))).toBeUndefined();
    expect(error.mock.calls.map(([e]) => String(e))).toEqual([
      expect.stringMatching(/invalid-option vapidPublicKey must be/),
      expect.stringMatching(/invalid-option backend must start with \//),
      expect.stringMatching(/invalid-option registerServiceWorker must be 'load' or 'subscribe'/),
    ]);
    error.mockRestore();
  });

  it("registers the worker at load with data-register-service-worker='load'", async () => {
    autoInit(tag({ 'data-vapid-public-key': KEY.text, 'data-backend': env.backend.url, 'data-register-service-worker': 'load' }));
    await until(() => env.browser.container.registerCalls.length == 1);
    expect(env.browser.container.registerCalls).toEqual(['/sw.js']);
    expect(env.browser.prompts).toBe(0);
  });
});
