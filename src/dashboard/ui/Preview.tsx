import { sameOriginImage } from './safeLink.js';

export interface PreviewMessage {
  title: string;
  body: string;
  icon: string;
  image: string;
  actions: { title: string }[];
}

/** What each browser family shows of a notification (DESIGN.md and PUSH-FACTS: Chromium's maxActions, Safari's omissions). */
const FAMILIES = [
  {
    name: 'Chrome, Edge, Opera',
    actions: 2,
    image: true,
    note: 'Chromium shows at most 2 action buttons (its Notification.maxActions); more are dropped.',
  },
  {
    name: 'Firefox',
    actions: Infinity,
    image: true,
    note: 'Firefox has no Notification.maxActions: whether its buttons and image appear depends on the operating system.',
  },
  {
    name: 'Safari',
    actions: 0,
    image: false,
    note: 'Safari shows no action buttons and no image (nor requireInteraction, badge, renotify or vibrate); on iOS only for web apps on the Home Screen.',
  },
] as const;

/** The message as each browser family would show it, drawn as text (images only from this site). */
export function Preview({ message, lang }: { message: PreviewMessage; lang?: string | undefined }) {
  const icon = sameOriginImage(message.icon);
  const image = sameOriginImage(message.image);
  return (
    <section aria-labelledby="preview">
      <h2 id="preview">Preview{lang ? ` (${lang})` : ''}</h2>
      <div class="previews">
        {FAMILIES.map((family) => {
          const actions = message.actions.slice(0, family.actions);
          const dropped = message.actions.length - actions.length;
          return (
            <figure class="preview" key={family.name}>
              <figcaption>{family.name}</figcaption>
              <div class="toast" lang={lang}>
                <div class="toast-head">
                  {icon ? <img class="icon" src={icon} alt="" /> : <span class="icon placeholder" aria-hidden="true" />}
                  <div>
                    <strong class="toast-title">{message.title || '(no title)'}</strong>
                    <span class="muted small">{location.host}</span>
                    {message.body && <p class="toast-body">{message.body}</p>}
                  </div>
                </div>
                {family.image && message.image && (image ? <img class="image" src={image} alt="" /> : <p class="muted small">Image not loaded here: the preview loads images from this site only.</p>)}
                {actions.length > 0 && (
                  <div class="toast-actions">
                    {actions.map((action, i) => (
                      <span class="toast-action" key={i}>
                        {action.title}
                      </span>
                    ))}
                  </div>
                )}
              </div>
              <p class="note">
                {family.note}
                {dropped > 0 && message.actions.length > 0 && family.actions > 0 && ` ${dropped} not shown here.`}
                {!family.image && message.image && ' The image is left out.'}
                {family.actions === 0 && message.actions.length > 0 && ' The buttons are left out.'}
              </p>
            </figure>
          );
        })}
      </div>
    </section>
  );
}
