import { MESSAGE_SOURCE, type PageRequest } from '../shared/protocol.js';
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
  const data = event.data as { source?: unknown; kind?: unknown } | null | undefined;
  // The page->worker kinds only, checked here rather than with isTidingsMessage, whose list
  // of every kind the worker would carry for nothing: it ignores the worker->page ones anyway.
  if (data?.source !== MESSAGE_SOURCE || !source?.url.startsWith(self.location.origin + '/')) return;
  if (data.kind === 'flush') event.waitUntil(w.flush());
  else if (['sync', 'unsync', 'state', 'prompt'].includes(data.kind as string))
    handlePageRequest(event, data as PageRequest, w.options.backend);
}
