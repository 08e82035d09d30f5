import type { Authorize, AuthorizeContext, Viewer } from '../dashboardTypes.js';
import { json } from '../../server/http/json.js';

/** The longest viewer name kept (it is shown, and recorded as `by`). */
const NAME_LIMIT = 200;

/**
 * Runs `authorize`: the viewer, or the answer to give instead. `null` (or `undefined`)
 * is 401: nobody is named; `false` is 403: someone is, and may not; a `Response` is the
 * site's own answer (a redirect to its login, a challenge). Anything else it returns is
 * a bug in the site's hook and throws, which the handler answers with 500.
 */
export async function authorizeRequest(authorize: Authorize, request: Request, context: AuthorizeContext): Promise<Viewer | Response> {
  const answer = await authorize(request, context);
  if (answer instanceof Response) return answer;
  if (answer === null || answer === undefined) return json(401, { error: 'unauthorized' });
  if (answer === false) return json(403, { error: 'forbidden' });
  const viewer: Viewer = typeof answer === 'string' ? { name: answer } : answer;
  if (typeof viewer !== 'object' || typeof viewer.name !== 'string' || viewer.name.length === 0 || viewer.name.length > NAME_LIMIT) {
    throw new TypeError(`authorize must return a viewer { name } with a name of 1 to ${NAME_LIMIT} characters, a name, null, false or a Response`);
  }
  return viewer;
}
