import type { Authorize, AuthorizeContext, Viewer } from '../dashboardTypes.js';
import { json } from '../../server/http/json.js';
import { sanitizeText } from '../../server/common/sanitizeText.js';

/** The longest viewer name kept: `send(…, { by })` takes 1 to 200 characters of plain text. */
const NAME_LIMIT = 200;

/** What a viewer is called when the name `authorize` gave has nothing visible left. */
export const UNNAMED = '(unnamed)';

/**
 * Runs `authorize`: the viewer, or the answer to give instead. `null` (or `undefined`)
 * is 401: nobody is named; `false` is 403: someone is, and may not; a `Response` is the
 * site's own answer (a redirect to its login, a challenge). Anything else it returns is
 * a bug in the site's hook and throws, which the handler answers with 500.
 *
 * The name is the site's, and may come from a stranger (a sign-up form): it is made safe
 * once here, and that one name is shown and recorded as `by` (trimmed, control and
 * invisible characters replaced, cut to 200), so no name can fail a send.
 */
export async function authorizeRequest(authorize: Authorize, request: Request, context: AuthorizeContext): Promise<Viewer | Response> {
  const answer = await authorize(request, context);
  if (answer instanceof Response) return answer;
  if (answer === null || answer === undefined) return json(401, { error: 'unauthorized' });
  if (answer === false) return json(403, { error: 'forbidden' });
  const viewer: Viewer = typeof answer === 'string' ? { name: answer } : answer;
  if (typeof viewer !== 'object' || typeof viewer.name !== 'string') {
    throw new TypeError('authorize must return a viewer { name }, a name, null, false or a Response');
  }
  return { ...viewer, name: safeName(viewer.name) };
}

/** A name that `send(…, { by })` takes: plain text, 1 to 200 characters. */
export function safeName(name: string): string {
  return sanitizeText(name, NAME_LIMIT) || UNNAMED;
}
