import { fail, isRecord } from '../../server/common/invalidRequest.js';
import { json } from '../../server/http/json.js';
import type { Viewer } from '../dashboardTypes.js';
import type { Audience, ConfirmAnswer, Session } from '../protocol.js';
import type { SendTarget } from '../statsContract.js';
import type { RouteSettings } from './createRoutes.js';
import { readComposeRequest, type ComposeRequest } from './readComposeRequest.js';

/**
 * The POSTs: `api/count` (an audience's size), `api/send`, `api/test` (to the viewer's own
 * audience) and `api/messages/{id}/cancel`. They come here past the same-site check and
 * `authorize`, as JSON only.
 */
export function actionRoutes({ data, canCancel }: RouteSettings) {
  /**
   * Sends once the viewer confirmed the audience's size: a send that may reach more than
   * one subscriber (or an unknown number) needs `confirm` equal to the size now, else the
   * answer is 409 with the size to show. The server holds the rule, so no page bug and no
   * hand-made request skips it.
   */
  async function confirmedSend(request: ComposeRequest, to: SendTarget | undefined, viewer: Viewer): Promise<Response> {
    const size = await data.count(to);
    if ((size === null || size > 1) && request.confirm !== size) return json(409, { error: 'confirm', audience: size } satisfies ConfirmAnswer);
    return json(200, await data.send(request.envelope, to, request.options, viewer.name));
  }

  return async (path: string, body: unknown, session: Session, viewer: Viewer): Promise<Response> => {
    const { controls } = session.capabilities;
    if (path === '/count') {
      if (!isRecord(body)) fail('body', 'not-object');
      const to = body.to;
      if (to !== null && to !== undefined && !isRecord(to)) fail('to', 'not-audience');
      return json(200, { count: await data.count((to ?? undefined) as Audience | undefined) });
    }
    if (path === '/send') {
      const request = readComposeRequest(body, controls, true);
      return confirmedSend(request, request.to, viewer);
    }
    if (path === '/test') {
      if (viewer.audience === undefined) return json(404, { error: 'not-found', reason: 'no-audience' });
      return confirmedSend(readComposeRequest(body, controls, false), viewer.audience, viewer);
    }
    const cancel = /^\/messages\/([^/]+)\/cancel$/.exec(path);
    if (cancel && canCancel) {
      let id: string;
      try {
        id = decodeURIComponent(cancel[1]!);
      } catch {
        return json(404, { error: 'not-found' });
      }
      const progress = await data.cancel(id);
      return progress ? json(200, { progress }) : json(404, { error: 'not-found' });
    }
    return json(404, { error: 'not-found' });
  };
}
