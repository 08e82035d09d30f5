import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStaticServer, type StaticServer } from './support/staticServer.js';
import { until } from './support/webkit.js';
import { InspectedWebKit, pushExpression, type InspectorTarget } from './support/webkitInspector.js';

// The app badge (issue 13) in WebKit, whose service workers have navigator.setAppBadge
// with the AppBadge feature on: an envelope's appBadge reaches setAppBadge from the built
// worker. The badge cannot be seen on this desktop, so setAppBadge is wrapped in the
// worker, through the inspector, before the push; it still calls WebKit's own.

describe('the app badge in WebKit', () => {
  let server: StaticServer;
  let browser: InspectedWebKit;
  let worker: InspectorTarget;

  beforeAll(async () => {
    server = await startStaticServer();
    const sw = `/worker/sw.js?options=${encodeURIComponent(JSON.stringify({ defaultNotification: { title: 'E2E default' } }))}`;
    browser = await InspectedWebKit.launch(`${server.origin}/worker/index.html?sw=${encodeURIComponent(sw)}`, { grant: server.origin });
    const page = await browser.connect('WebPage');
    await until(() => page.evaluate<boolean>('window.__ready').catch(() => undefined), 'the test worker to be ready');
    worker = await browser.connect('ServiceWorker');
    await worker.evaluate(`(() => {
      const proto = Object.getPrototypeOf(navigator);
      const setAppBadge = proto.setAppBadge;
      self.__badges = [];
      proto.setAppBadge = function (count) {
        self.__badges.push(count);
        return setAppBadge.call(this, count);
      };
    })()`);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("sets the envelope's appBadge with navigator.setAppBadge, beside its notification", async () => {
    const envelope = { v: 1, id: 'badge1', appBadge: 3, notification: { title: 'Three unread', tag: 'badge1' } };
    expect(await worker.evaluate<number>(pushExpression(JSON.stringify(envelope)))).toBeGreaterThan(0);
    const titles = await worker.evaluate<string[]>('self.registration.getNotifications().then((list) => list.map((n) => n.title))');
    expect(titles).toEqual(['Three unread']);
    expect(await worker.evaluate('self.__badges')).toEqual([3]);
  });
});
