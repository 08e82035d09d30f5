import { afterEach, describe, expect, it } from 'vitest';
import { isSupported } from '../../../src/client/isSupported.js';
import { installFakeBrowser } from './support/fakeBrowser.js';

const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';

describe('isSupported', () => {
  let browser = installFakeBrowser();
  const userAgent = navigator.userAgent;
  afterEach(() => {
    browser.uninstall();
    browser = installFakeBrowser();
    Object.defineProperty(navigator, 'userAgent', { value: userAgent, configurable: true });
    Object.defineProperty(navigator, 'maxTouchPoints', { value: 0, configurable: true });
    delete (navigator as { standalone?: boolean }).standalone;
  });

  it('is true in a secure context with service workers, PushManager and Notification', () => {
    expect(isSupported()).toBe(true);
  });

  it.each(['PushManager', 'Notification'])('is false without %s', (name) => {
    delete (window as unknown as Record<string, unknown>)[name];
    expect(isSupported()).toBe(false);
  });

  it('is false without service workers', () => {
    delete (navigator as unknown as Record<string, unknown>).serviceWorker;
    expect(isSupported()).toBe(false);
  });

  it('is false in an insecure context', () => {
    Object.defineProperty(window, 'isSecureContext', { value: false, configurable: true });
    expect(isSupported()).toBe(false);
  });

  it('is false in an iOS Safari tab, and true in a Home Screen web app', () => {
    Object.defineProperty(navigator, 'userAgent', { value: IPHONE, configurable: true });
    Object.defineProperty(navigator, 'maxTouchPoints', { value: 5, configurable: true });
    expect(isSupported()).toBe(false);
    Object.defineProperty(navigator, 'standalone', { value: true, configurable: true });
    expect(isSupported()).toBe(true);
  });

  it('never throws, even when a global getter does', () => {
    Object.defineProperty(window, 'isSecureContext', {
      get() {
        throw new Error('hostile');
      },
      configurable: true,
    });
    expect(isSupported()).toBe(false);
  });
});
