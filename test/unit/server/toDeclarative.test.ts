import { describe, expect, it } from 'vitest';
import { toDeclarative } from '../../../src/server/send/toDeclarative.js';
import { validateEnvelope } from '../../../src/shared/validateEnvelope.js';
import type { Envelope } from '../../../src/shared/protocol.js';

const site = 'https://site.example/';

describe('toDeclarative', () => {
  it('writes WebKit’s form: navigate absolute, actions with navigate, require_interaction, badge in both places', () => {
    const envelope: Envelope = {
      v: 1,
      id: 'm1',
      appBadge: 3,
      analytics: false,
      notification: {
        title: 'Hi',
        body: 'B',
        icon: '/i.png',
        url: '/articles/1',
        requireInteraction: true,
        actions: [{ action: 'read', title: 'Read', url: '/read' }, { action: 'later', title: 'Later' }],
      },
    };
    expect(toDeclarative(envelope, site)).toEqual({
      web_push: 8030,
      id: 'm1',
      analytics: false,
      app_badge: 3,
      notification: {
        title: 'Hi',
        body: 'B',
        icon: 'https://site.example/i.png',
        navigate: 'https://site.example/articles/1',
        require_interaction: true,
        app_badge: 3,
        actions: [{ action: 'read', title: 'Read', navigate: 'https://site.example/read' }, { action: 'later', title: 'Later' }],
      },
    });
  });

  it.each([
    ['analytics (on by default)', {}],
    ['cache', { analytics: false, cache: { urls: ['/a'] } }],
    ['data for tabs', { analytics: false, data: { n: 1 } }],
    ['a type handler', { analytics: false, type: 'chat' }],
  ])('sets mutable, top level and in notification, when the message needs the worker: %s', (_, extra) => {
    const out = toDeclarative({ v: 1, notification: { title: 'T', url: 'https://site.example/' }, ...extra });
    expect(out.mutable).toBe(true);
    expect(out.notification.mutable).toBe(true);
  });

  it('leaves mutable out when the worker has nothing to do', () => {
    const out = toDeclarative({ v: 1, analytics: false, notification: { title: 'T', url: 'https://site.example/' } });
    expect(out).not.toHaveProperty('mutable');
    expect(out.notification).not.toHaveProperty('mutable');
  });

  it('opens siteUrl when the notification has no url', () => {
    expect(toDeclarative({ v: 1, notification: { title: 'T' } }, site).notification.navigate).toBe(site);
  });

  it('is read back by the worker’s validator as the same envelope', () => {
    const envelope: Envelope = {
      v: 1,
      id: 'm1',
      ts: 5,
      ttl: 60,
      type: 'chat',
      data: { n: 1 },
      appBadge: 0,
      notification: { title: 'T', tag: 'x', url: 'https://site.example/a', actions: [{ action: 'a', title: 'A', url: 'https://site.example/b' }] },
    };
    expect(validateEnvelope(JSON.parse(JSON.stringify(toDeclarative(envelope))))).toEqual(envelope);
  });

  it.each([
    ['a sealed envelope', { v: 1, sealed: 'abc', notification: { title: 'T' } }, 'invalid-option', { option: 'declarative' }],
    ['a fetch pointer', { v: 1, fetch: '/m/1', notification: { title: 'T' } }, 'invalid-option', { option: 'declarative' }],
    ['no notification', { v: 1, data: 1 }, 'invalid-envelope', { field: 'notification.title' }],
    ['an empty title', { v: 1, notification: { title: '' } }, 'invalid-envelope', { field: 'notification.title' }],
    ['a relative url without siteUrl', { v: 1, notification: { title: 'T', url: '/a' } }, 'invalid-option', { option: 'siteUrl' }],
    ['no url and no siteUrl', { v: 1, notification: { title: 'T' } }, 'invalid-option', { option: 'siteUrl' }],
    ['a relative icon without siteUrl', { v: 1, notification: { title: 'T', url: 'https://s.example/', icon: 'i.png' } }, 'invalid-option', { option: 'siteUrl' }],
    ['a javascript: url', { v: 1, notification: { title: 'T', url: 'javascript:alert(1)' } }, 'invalid-envelope', { field: 'notification.url' }],
    ['a data: action url', { v: 1, notification: { title: 'T', url: 'https://s.example/', actions: [{ action: 'a', title: 'A', url: 'data:text/html,x' }] } }, 'invalid-envelope', { field: 'notification.actions[0].url' }],
  ])('refuses %s', (_, envelope, code, details) => {
    expect(() => toDeclarative(envelope as Envelope)).toThrow(expect.objectContaining({ code, details: expect.objectContaining(details) }));
  });
});
