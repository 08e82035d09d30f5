import { describe, expectTypeOf, it } from 'vitest';
import { createPushClient } from '../../../src/client/createPushClient.js';
import type { NotificationClickInfo, PushClient, PushState } from '../../../src/client/PushClient.js';
import type { Envelope, JsonValue } from '../../../src/shared/protocol.js';
import { usePush, type UsePushResult } from '../../../src/react/index.js';
import { KEY, useEnv } from './support/setup.js';

// Type tests: `npm run typecheck` (tsc over test/) is what checks these; each `it` also
// runs, so a call that type-checks is also shown to work at run time.
useEnv();
const options = { vapidPublicKey: KEY.text, backend: '/api/push' };

interface ChatMessage {
  room: string;
  text: string;
}

describe('the type of pushed data', () => {
  it('is JsonValue (or undefined) when the client names none', () => {
    const client = createPushClient(options);
    expectTypeOf(client).toEqualTypeOf<PushClient<JsonValue>>();
    client.onMessage((data, envelope) => {
      expectTypeOf(data).toEqualTypeOf<JsonValue | undefined>();
      expectTypeOf(envelope).toEqualTypeOf<Envelope>();
    });
  });

  it('is the type given to createPushClient, interfaces included (they have no index signature)', () => {
    const client = createPushClient<ChatMessage>(options);
    client.onMessage((data) => {
      expectTypeOf(data).toEqualTypeOf<ChatMessage | undefined>();
      // @ts-expect-error data may be undefined: a push with a notification and no data reaches a tab in front.
      data.text.toUpperCase();
      if (data) expectTypeOf(data.room).toBeString();
    });
    // @ts-expect-error a listener for another shape is refused
    client.onMessage((data: { other: number }) => data);
  });

  it('types the click data apart, per listener', () => {
    const client = createPushClient<ChatMessage>(options);
    client.onNotificationClick((click) => {
      expectTypeOf(click).toEqualTypeOf<NotificationClickInfo<JsonValue>>();
      expectTypeOf(click.action).toBeString();
      expectTypeOf(click.url).toBeString();
      expectTypeOf(click.messageId).toEqualTypeOf<string | undefined>();
    });
    client.onNotificationClick<{ articleId: number }>((click) => {
      expectTypeOf(click.data).toEqualTypeOf<{ articleId: number } | undefined>();
    });
    expectTypeOf(client.onNotificationClick).returns.toEqualTypeOf<() => void>();
  });

  it('keeps the options typed: a misspelt option or a wrong value does not compile', () => {
    // @ts-expect-error registerServiceWorker is 'load' or 'subscribe'
    expectTypeOf(createPushClient).toBeCallableWith({ ...options, registerServiceWorker: 'eager' });
    expectTypeOf(createPushClient).toBeCallableWith({ ...options, registerServiceWorker: 'load' });
    // @ts-expect-error vapidPublicKey is required
    expectTypeOf(createPushClient).toBeCallableWith({ backend: '/api/push' });
  });

  it('lets usePush take a client of any data type, or none', () => {
    expectTypeOf(usePush).toBeCallableWith(createPushClient<ChatMessage>(options));
    expectTypeOf(usePush).toBeCallableWith(undefined);
    expectTypeOf(usePush).returns.toEqualTypeOf<UsePushResult>();
    expectTypeOf<UsePushResult['error']>().toEqualTypeOf<Error | undefined>();
    expectTypeOf<UsePushResult['subscribe']>().returns.resolves.toEqualTypeOf<PushState | undefined>();
  });
});
