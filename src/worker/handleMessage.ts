import { isTidingsMessage, type PageRequest } from '../shared/protocol.js';
import { handlePageRequest } from './handlePageRequest.js';
import type { WorkerContext } from './WorkerContext.js';

declare const self: ServiceWorkerGlobalScope;

/**
 * Answers the page SDK: only messages of the tidings protocol, and only from windows of
 * this origin. 'flush' sends queued events and registrations now; requests (sync, state...)
 * are answered on their port.
 */
export function handleMessage(w: WorkerContext, event: ExtendableMessageEvent): void {
  const source = event.source as Client | null;
  if (!isTidingsMessage(event.data) || !source?.url.startsWith(self.location.origin + '/')) return;
  if (event.data.kind === 'flush') event.waitUntil(w.flush());
  else if (/^(sync|unsync|state|prompt)$/.test(event.data.kind)) handlePageRequest(event, event.data as PageRequest, w.options.backend);
}
