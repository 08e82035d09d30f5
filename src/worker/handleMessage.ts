import { isTidingsMessage } from '../shared/protocol.js';
import type { WorkerContext } from './WorkerContext.js';

declare const self: ServiceWorkerGlobalScope;

/**
 * Answers the page SDK: only messages of the tidings protocol, and only from windows of
 * this origin. 'flush' sends queued events and registrations now.
 */
export function handleMessage(w: WorkerContext, event: ExtendableMessageEvent): void {
  const source = event.source as Client | null;
  if (!isTidingsMessage(event.data) || !source?.url.startsWith(self.location.origin + '/')) return;
  if (event.data.kind === 'flush') event.waitUntil(w.flush());
}
