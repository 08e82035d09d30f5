declare const self: ServiceWorkerGlobalScope;

/**
 * True on a browser that revokes the push permission after a push that shows nothing,
 * even with a tab of the site in front: Safari (PUSH-FACTS 7). Told by capability where
 * it can be, WebKit's `pushnotification` event (Safari 18.4+); older Safari has no such
 * mark, so by its engine: WebKit that is not Chromium.
 */
export const notifiesEveryPush = (): boolean =>
  'onpushnotification' in self || /AppleWebKit(?!.*Chrom)/.test(self.navigator.userAgent);
