import type { CountedEvent, StoredSend } from '../stores/insightRows.js';
import type { InsightEvent, SendRecord } from './statsTypes.js';

/** `onEvent` as the site gave it. */
export type OnEvent = (event: InsightEvent) => void | Promise<void>;

/** Hands events to `onEvent` without waiting for it; what it throws or rejects goes to `onError`. */
export type Reporter = (event: InsightEvent) => void;

/**
 * Wraps the site's `onEvent` so that it can neither delay nor fail what reports to it: it
 * is called at once, never awaited, and a throw or a rejection is handed to `onError`.
 * Without `onEvent`, reporting costs nothing.
 */
export function createReporter(onEvent: OnEvent | undefined, onError: (error: unknown) => void): Reporter {
  if (!onEvent) return () => {};
  return (event) => {
    try {
      const answer = onEvent(event);
      if (answer && typeof (answer as Promise<void>).then === 'function') (answer as Promise<void>).then(undefined, onError);
    } catch (error) {
      onError(error);
    }
  };
}

const KINDS = {
  delivered: 'message.push.delivered',
  shown: 'message.push.shown',
  clicked: 'message.push.clicked',
  closed: 'message.push.closed',
  failed: 'message.push.failed',
} as const;

/** The onEvent of a counted event. */
export function countedEvent({ event, subscriptionId, service, browser }: CountedEvent): InsightEvent {
  const out: InsightEvent = {
    kind: KINDS[event.type as keyof typeof KINDS],
    id: event.id,
    timestamp: event.at,
    message: { id: event.messageId },
    subscription: { id: subscriptionId, service, browser },
  };
  if (event.action !== undefined || event.reason !== undefined) {
    out.data = {};
    if (event.action !== undefined) out.data.action = event.action;
    if (event.reason !== undefined) out.data.reason = event.reason;
  }
  return out;
}

/** The onEvent of a finished send. */
export function finishedEvent(send: StoredSend): InsightEvent {
  const { services: _services, ...record } = send;
  const message: { id: string; title?: string } = { id: send.id };
  if (send.title !== undefined) message.title = send.title;
  return { kind: 'message.send.finished', id: `${send.id}.finished`, timestamp: send.finishedAt ?? Date.now(), message, send: record as SendRecord };
}
