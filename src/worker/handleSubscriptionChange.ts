import type { WorkerContext } from './WorkerContext.js';

export function handleSubscriptionChange(w: WorkerContext, event: ExtendableEvent): void {
  event.waitUntil(w.flush());
}
