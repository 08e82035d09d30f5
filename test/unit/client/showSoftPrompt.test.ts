import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPushClient } from '../../../src/client/createPushClient.js';
import { showSoftPrompt } from '../../../src/client/showSoftPrompt.js';
import { getValue, withTidingsDB } from '../../../src/worker/db.js';
import { isTidingsError } from '../../../src/shared/TidingsError.js';
import { KEY, settle, until, useEnv } from './support/setup.js';

const env = useEnv();
const DAY = 86_400_000;
const client = () => createPushClient({ vapidPublicKey: KEY.text, backend: env.backend.url });
const dialog = () => document.querySelector<HTMLDialogElement>('dialog.tidings-prompt');
const shown = () => until(() => dialog() !== null);
const click = (part: string) => document.querySelector<HTMLButtonElement>(`.tidings-prompt-${part}`)!.click();

afterEach(() => {
  vi.useRealTimers();
  document.body.replaceChildren();
});

describe('showSoftPrompt', () => {
  it("answers 'blocked' without showing anything when permission is denied", async () => {
    env.browser.permission = 'denied';
    expect(await showSoftPrompt(client())).toBe('blocked');
    expect(dialog()).toBeNull();
  });

  it('rejects with unsupported where push is unsupported', async () => {
    env.browser.uninstall();
    const error = await showSoftPrompt(client()).catch((e: unknown) => e);
    expect(isTidingsError(error, 'unsupported')).toBe(true);
  });

  it('shows a modal dialog whose text is text, never HTML, with a class per part and labels from options', async () => {
    const answer = showSoftPrompt(client(), {
      title: '<img src=x onerror=alert(1)>Hi',
      body: 'Body <b>text</b>',
      allowLabel: 'Yes please',
      laterLabel: 'Maybe',
    });
    await shown();
    const d = dialog()!;
    expect(d.open).toBe(true);
    expect(d.querySelector('img, b')).toBeNull();
    expect(d.querySelector('.tidings-prompt-title')!.textContent).toBe('<img src=x onerror=alert(1)>Hi');
    expect(d.querySelector('h2')!.id).toBe('tidings-prompt-title');
    expect(d.getAttribute('aria-labelledby')).toBe('tidings-prompt-title');
    expect(d.getAttribute('aria-describedby')).toBe('tidings-prompt-body');
    expect(d.querySelector('.tidings-prompt-body')!.textContent).toBe('Body <b>text</b>');
    expect([...d.querySelectorAll('button')].map((b) => [b.className, b.textContent])).toEqual([
      ['tidings-prompt-allow', 'Yes please'],
      ['tidings-prompt-later', 'Maybe'],
    ]);
    click('later');
    await answer;
  });

  it("subscribes inside the Allow click and answers 'subscribed'", async () => {
    const answer = showSoftPrompt(client());
    await shown();
    expect(env.browser.prompts).toBe(0);
    click('allow');
    // The browser prompt was asked synchronously in the click: the gesture still counts.
    expect(env.browser.prompts).toBe(1);
    expect(await answer).toBe('subscribed');
    expect(dialog()).toBeNull();
    expect(env.backend.requests.map((r) => r.method)).toEqual(['POST']);
  });

  it("answers 'denied' when the browser prompt is refused", async () => {
    env.browser.answer = 'denied';
    const answer = showSoftPrompt(client());
    await shown();
    click('allow');
    expect(await answer).toBe('denied');
    expect(await showSoftPrompt(client())).toBe('blocked');
  });

  it("answers 'later' when the browser prompt is dismissed, and backs off", async () => {
    env.browser.answer = 'default';
    const answer = showSoftPrompt(client());
    await shown();
    click('allow');
    expect(await answer).toBe('later');
    expect((await withTidingsDB((db) => getValue(db, 'prompt')))?.laters).toBe(1);
  });

  it('takes Escape (the dialog cancel event) as later', async () => {
    const answer = showSoftPrompt(client());
    await shown();
    dialog()!.dispatchEvent(new Event('cancel'));
    expect(await answer).toBe('later');
  });

  it('stays hidden 3, then 7, then 30 days after each later', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = new Date('2026-01-01T00:00:00Z').getTime();
    vi.setSystemTime(start);
    const c = client();
    const putOff = async () => {
      const answer = showSoftPrompt(c);
      await shown();
      click('later');
      expect(await answer).toBe('later');
    };
    let now = start;
    for (const days of [3, 7, 30, 30]) {
      await putOff();
      vi.setSystemTime((now += days * DAY - 1000));
      expect(await showSoftPrompt(c)).toBe('later');
      expect(dialog()).toBeNull();
      vi.setSystemTime((now += 1000));
    }
    expect((await withTidingsDB((db) => getValue(db, 'prompt')))?.laters).toBe(4);
  });

  it('subscribes without showing when permission is already granted', async () => {
    env.browser.permission = 'granted';
    expect(await showSoftPrompt(client())).toBe('subscribed');
    await settle();
    expect(dialog()).toBeNull();
  });

  it('goes into the given parent', async () => {
    const parent = document.body.appendChild(document.createElement('main'));
    const answer = showSoftPrompt(client(), { parent });
    await shown();
    expect(dialog()!.parentElement).toBe(parent);
    click('later');
    await answer;
  });
});
