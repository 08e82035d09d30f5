import { fail } from '../../server/common/invalidRequest.js';
import { json } from '../../server/http/json.js';
import { RANGES, type Answer, type Range, type Session } from '../protocol.js';
import type { RouteSettings } from './createRoutes.js';

/** Longest query parameter read (cursors, attribute keys and values). */
const PARAM_LIMIT = 512;

/** A query parameter, bounded; undefined when absent. */
function param(query: URLSearchParams, name: string): string | undefined {
  const value = query.get(name);
  if (value === null) return undefined;
  if (value.length > PARAM_LIMIT) fail(name, 'too-long');
  return value;
}

/** A path segment as it was meant; a malformed escape names nothing. */
function segment(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

/**
 * The JSON each page reads, one request a page: `GET api/overview`, `api/messages`,
 * `api/messages/{id}`, `api/audience`, `api/compose`. Each answer carries the session
 * (who is looking, what the push object can do) beside the page's data.
 */
export function dataRoutes({ data }: RouteSettings) {
  const answer = <T>(session: Session, value: T): Response => json(200, { session, data: value } satisfies Answer<T>);

  return async (path: string, query: URLSearchParams, session: Session): Promise<Response> => {
    if (path === '/overview') {
      const range = param(query, 'range') ?? '30d';
      if (!RANGES.includes(range as Range)) fail('range', 'unknown');
      return answer(session, await data.overview(range as Range));
    }
    if (path === '/messages') return answer(session, (await data.messages(param(query, 'after'))) ?? null);
    const message = /^\/messages\/([^/]+)$/.exec(path);
    if (message) {
      const id = segment(message[1]!);
      const found = id === undefined ? undefined : await data.message(id);
      return found ? answer(session, found) : json(404, { error: 'not-found' });
    }
    if (path === '/audience') {
      const by = param(query, 'by');
      const key = param(query, 'key');
      const value = param(query, 'value');
      const after = param(query, 'after');
      return answer(session, await data.audience({ ...(by ? { by } : {}), ...(key ? { key } : {}), ...(value !== undefined ? { value } : {}), ...(after ? { after } : {}) }));
    }
    if (path === '/compose') return answer(session, {});
    return json(404, { error: 'not-found' });
  };
}
