import type { StaticServer } from './staticServer.js';

/** An analytics event as the worker posts it to the backend. */
export interface BackendEvent {
  id: string;
  type: string;
  messageId?: string;
  reason?: string;
}

export interface EventsRoute {
  /** Every event posted, in order. */
  events: BackendEvent[];
  /** How many events each POST carried, in order. */
  posts: number[];
}

/**
 * Adds the analytics route of the backend contract, `POST {prefix}/events` answered 202,
 * to a test server, recording what the worker sent. Subscriptions are contractBackend's.
 */
export function eventsRoute(server: StaticServer, prefix = '/api/push'): EventsRoute {
  const recorded: EventsRoute = { events: [], posts: [] };
  server.route(async (req, res, url) => {
    if (req.method !== 'POST' || url.pathname !== `${prefix}/events`) return false;
    let text = '';
    for await (const chunk of req) text += chunk;
    const batch = (JSON.parse(text) as { events: BackendEvent[] }).events;
    recorded.posts.push(batch.length);
    recorded.events.push(...batch);
    res.writeHead(202).end();
    return true;
  });
  return recorded;
}
