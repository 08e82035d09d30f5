import { isTidingsError, TidingsError } from '../shared/TidingsError.js';
import { promptRequests } from './createPushClient.js';
import type { PushClient } from './PushClient.js';

/** Copy and placement of the soft prompt. Text is set with `textContent`, never parsed as HTML. */
export interface SoftPromptOptions {
  /** Heading. Default `'Turn on notifications?'`. */
  title?: string;
  /** Text under the heading. Default `'We will only notify you about things that matter.'`. */
  body?: string;
  /** Label of the button that subscribes. Default `'Allow'`. */
  allowLabel?: string;
  /** Label of the button that puts the question off. Default `'Not now'`. */
  laterLabel?: string;
  /** Element the dialog is added to. Default `document.body`. */
  parent?: HTMLElement;
}

export type SoftPromptAnswer = 'subscribed' | 'later' | 'denied' | 'blocked';

/**
 * Shows a pre-permission prompt in a native `<dialog>`, and only asks the browser when
 * the user clicks Allow (inside that click, as Firefox and Safari require). Answers:
 * `'subscribed'`; `'later'` when put off (Not now, Escape, or the browser prompt
 * dismissed), after which it stays hidden 3, then 7, then 30 days; `'denied'` when the
 * browser prompt is refused; `'blocked'` without showing when permission is already
 * denied. With permission already granted it subscribes without showing. Each part has
 * a class (`tidings-prompt`, `tidings-prompt-title`, `-body`, `-allow`, `-later`).
 */
export async function showSoftPrompt(client: PushClient, options: SoftPromptOptions = {}): Promise<SoftPromptAnswer> {
  const { supported, permission } = await client.getState();
  if (!supported) throw new TidingsError('unsupported');
  if (permission === 'denied') return 'blocked';
  if (permission === 'granted') return client.subscribe().then(() => 'subscribed');
  // The back-off is kept by the tidings worker (IndexedDB); a client not made by createPushClient has none.
  const backoff = promptRequests.get(client);
  if (((await backoff?.())?.nextAt ?? 0) > Date.now()) return 'later';

  const dialog = document.createElement('dialog');
  dialog.className = 'tidings-prompt';
  dialog.setAttribute('aria-labelledby', 'tidings-prompt-title');
  dialog.setAttribute('aria-describedby', 'tidings-prompt-body');
  const [, , allow, later] = [
    ['h2', 'title', options.title ?? 'Turn on notifications?'],
    ['p', 'body', options.body ?? 'We will only notify you about things that matter.'],
    ['button', 'allow', options.allowLabel ?? 'Allow'],
    ['button', 'later', options.laterLabel ?? 'Not now'],
  ].map(([tag, name, text]) => {
    const element = dialog.appendChild(document.createElement(tag!));
    element.className = element.id = `tidings-prompt-${name}`;
    element.textContent = text!;
    return element;
  });
  (options.parent ?? document.body).appendChild(dialog);
  dialog.showModal();

  return new Promise<SoftPromptAnswer>((resolve, reject) => {
    const finish = (answer: SoftPromptAnswer): void => {
      dialog.remove();
      resolve(answer);
    };
    // The worker counts the "later"s (3, 7, then 30 days), registering it first if need be.
    const putOff = (): Promise<void> => Promise.resolve(backoff?.(true)).then(() => finish('later'), reject);
    // subscribe() asks for permission synchronously, still inside this click.
    allow!.onclick = () =>
      client.subscribe().then(
        () => finish('subscribed'),
        (error: unknown) =>
          isTidingsError(error, 'permission-denied')
            ? finish('denied')
            : isTidingsError(error, 'permission-dismissed')
              ? putOff()
              : (dialog.remove(), reject(error)),
      );
    // Escape closes a modal dialog ('cancel'): that is "later" too.
    later!.onclick = dialog.oncancel = putOff;
  });
}
