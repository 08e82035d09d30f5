import type { Envelope, EnvelopeAction, EnvelopeNotification, JsonValue } from '../../shared/protocol.js';
import { TidingsError } from '../../shared/TidingsError.js';

/** An action of a declarative notification: `navigate` is absolute. */
export interface DeclarativeAction extends Omit<EnvelopeAction, 'url'> {
  navigate?: string;
}

/** The `notification` of a declarative message (WebKit's names; tidings' other fields ride along). */
export interface DeclarativeNotification extends Omit<EnvelopeNotification, 'url' | 'actions' | 'requireInteraction'> {
  title: string;
  /** Opened on click by a browser that shows the message itself; absolute. */
  navigate: string;
  require_interaction?: boolean;
  actions?: DeclarativeAction[];
  /** Where WebKit reads the badge. */
  app_badge?: number;
  /** Where WebKit reads `mutable`. */
  mutable?: true;
}

/**
 * Declarative Web Push JSON (PUSH-FACTS 6.8, 7): Safari 18.4+ shows it with no service
 * worker; other browsers hand it to the worker, which reads it as an envelope. The
 * tidings fields sit alongside, so the worker keeps its replay guard, analytics and routing.
 */
export interface DeclarativeMessage {
  web_push: 8030;
  notification: DeclarativeNotification;
  /** Where the spec puts the badge. */
  app_badge?: number;
  /** Where the spec puts `mutable`: the worker is woken for this message too. */
  mutable?: true;
  id?: string;
  ts?: number;
  ttl?: number;
  cache?: Envelope['cache'];
  type?: string;
  data?: JsonValue;
  analytics?: boolean;
}

/**
 * The declarative form of a checked envelope: `url` becomes `navigate` (actions too),
 * made absolute against `siteUrl` like `icon`, `badge` and `image` (a browser showing the
 * message itself has no page to resolve them against; a notification without `url`
 * opens `siteUrl`), `appBadge` becomes `app_badge`, and `mutable` is set, at the top level
 * (spec) and in `notification` (WebKit), whenever the message needs the worker: analytics
 * (on by default), `cache`, `data` or a `type` handler.
 *
 * Throws TidingsError: `invalid-option` for a `sealed` or `fetch` envelope (a browser
 * cannot open or follow those by itself) and for a relative URL without `siteUrl`;
 * `invalid-envelope` for a message with no notification title (the form requires one).
 */
export function toDeclarative(envelope: Envelope, siteUrl?: string): DeclarativeMessage {
  if (envelope.sealed !== undefined || envelope.fetch !== undefined) {
    refuse('declarative', `a ${envelope.sealed !== undefined ? 'sealed' : 'fetch'} envelope cannot be sent in declarative form`);
  }
  const n = envelope.notification;
  if (!n?.title) throw new TidingsError('invalid-envelope', { field: 'notification.title', reason: 'a declarative message needs a title' });
  const absolute = (raw: string | undefined, field: string): string => {
    if (raw === undefined) refuse('siteUrl', `needed for a declarative message without ${field}`);
    let url: URL | undefined;
    try {
      url = new URL(raw, siteUrl);
    } catch {
      refuse('siteUrl', `needed to make ${field} absolute for a declarative message`);
    }
    if (!/^https?:$/.test(url.protocol)) throw new TidingsError('invalid-envelope', { field, reason: 'not an http(s) URL' });
    return url.href;
  };

  const { url, actions, requireInteraction, ...rest } = n;
  const { id, ts, ttl, cache, type, data, analytics, appBadge } = envelope;
  const notification: DeclarativeNotification = { ...rest, title: n.title, navigate: absolute(url ?? siteUrl, 'notification.url') };
  for (const key of ['icon', 'badge', 'image'] as const) {
    if (n[key] !== undefined) notification[key] = absolute(n[key], `notification.${key}`);
  }
  if (requireInteraction !== undefined) notification.require_interaction = requireInteraction;
  if (actions) {
    notification.actions = actions.map(({ url: target, icon, ...action }, i) => ({
      ...action,
      ...(icon !== undefined && { icon: absolute(icon, `notification.actions[${i}].icon`) }),
      ...(target !== undefined && { navigate: absolute(target, `notification.actions[${i}].url`) }),
    }));
  }
  const message: DeclarativeMessage = { web_push: 8030, notification };
  if (appBadge !== undefined) message.app_badge = notification.app_badge = appBadge;
  if (analytics !== false || cache || data !== undefined || type !== undefined) message.mutable = notification.mutable = true;
  return Object.assign(message, defined({ id, ts, ttl, cache, type, data, analytics }));
}

function defined<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function refuse(option: string, reason: string): never {
  throw new TidingsError('invalid-option', { option, reason });
}
