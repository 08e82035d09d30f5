/**
 * True when the browser shows this push's declarative notification itself and only tells
 * the worker (`mutable`): the spec's push event then carries it as `notification`,
 * WebKit's `pushnotification` event as `proposedNotification`. Showing another would show
 * the message twice.
 */
export const shownByBrowser = (event: ExtendableEvent): boolean =>
  !!((event as { notification?: unknown }).notification ?? (event as { proposedNotification?: unknown }).proposedNotification);
