import { isTidingsError } from '../../shared/TidingsError.js';
import { checkRequestSite } from '../../server/http/checkRequestSite.js';
import { json, notAllowed, readJson } from '../../server/http/json.js';
import type { DashboardData } from '../data/createDashboardData.js';
import type { Authorize, AuthorizeContext, RequestInfo, Viewer } from '../dashboardTypes.js';
import type { Session } from '../protocol.js';
import { authorizeRequest } from './authorizeRequest.js';
import { actionRoutes } from './actionRoutes.js';
import { dataRoutes } from './dataRoutes.js';
import type { Caching } from './securityHeaders.js';

export interface Asset {
  name: string;
  type: string;
  body: string;
}

export interface RouteSettings {
  authorize: Authorize;
  data: DashboardData;
  canCancel: boolean;
  allowedOrigins: readonly string[];
  linkOrigins: readonly string[];
  identityAttribute: string;
  attributes: readonly string[];
  engagementWarning: number;
  maxBodyBytes: number;
  shell: string;
  assets: ReadonlyMap<string, Asset>;
}

/** Page URLs (below the base path): each renders the same shell, which reads the URL. */
const PAGE = /^\/?$|^\/(messages|audience|compose)$|^\/messages\/[^/]+$/;

const CANCEL = /^\/api\/messages\/[^/]+\/cancel$/;

/** What the request asks for, for `authorize` and the routing below. */
function classify(method: string, rest: string): Pick<AuthorizeContext, 'kind' | 'action'> {
  if (rest.startsWith('/assets/')) return { kind: 'asset' };
  if (rest.startsWith('/api/')) {
    if (method !== 'POST' || rest === '/api/count') return { kind: 'data' };
    if (rest === '/api/send') return { kind: 'action', action: 'send' };
    if (rest === '/api/test') return { kind: 'action', action: 'test' };
    if (CANCEL.test(rest)) return { kind: 'action', action: 'cancel' };
    return { kind: 'action' };
  }
  return { kind: 'page' };
}

/**
 * Routes one request below the base path: the same-site check for POSTs, then `authorize`
 * for everything (an unknown path too, so a stranger learns nothing of what exists), then
 * the page, asset, data or action. Answers with the response and how long it may be kept.
 */
export function createRoutes(settings: RouteSettings) {
  const data = dataRoutes(settings);
  const actions = actionRoutes(settings);

  return async (request: Request, url: URL, rest: string, info: RequestInfo): Promise<[Response, Caching?]> => {
    const method = request.method;
    if (method !== 'GET' && method !== 'HEAD') {
      const refused = checkRequestSite(request, url, settings.allowedOrigins);
      if (refused) return [json(403, { error: 'forbidden', reason: refused })];
    }
    const context: AuthorizeContext = { ...classify(method, rest), info };
    const viewer = await authorizeRequest(settings.authorize, request, context);
    if (viewer instanceof Response) return [viewer];
    const session = sessionOf(settings, viewer);

    try {
      if (context.kind === 'asset') {
        if (method !== 'GET' && method !== 'HEAD') return [notAllowed('GET, HEAD')];
        const asset = settings.assets.get(rest.slice('/assets/'.length));
        if (!asset) return [json(404, { error: 'not-found' })];
        return [new Response(method === 'HEAD' ? null : asset.body, { headers: { 'content-type': asset.type } }), 'immutable'];
      }
      if (context.kind === 'page') {
        if (!PAGE.test(rest)) return [json(404, { error: 'not-found' })];
        if (method !== 'GET' && method !== 'HEAD') return [notAllowed('GET, HEAD')];
        return [new Response(method === 'HEAD' ? null : settings.shell, { headers: { 'content-type': 'text/html; charset=utf-8' } })];
      }
      if (method === 'GET' || method === 'HEAD') return [await data(rest.slice('/api'.length), url.searchParams, session)];
      if (method !== 'POST') return [notAllowed('GET, HEAD, POST')];
      const body = await readJson(request, settings.maxBodyBytes);
      return [await actions(rest.slice('/api'.length), body, session, viewer)];
    } catch (error) {
      if (isTidingsError(error, 'invalid-request')) {
        const { field, reason } = error.details;
        if (reason === 'too-large') return [json(413, { error: 'invalid-request', field, reason })];
        if (reason === 'not-json-content-type') return [json(415, { error: 'unsupported-media-type', field, reason })];
        return [json(400, { error: 'invalid-request', field, reason })];
      }
      // What send() and count() refuse (a bad envelope, an audience or option it does not take).
      if (isTidingsError(error, 'invalid-envelope') || isTidingsError(error, 'invalid-option')) {
        const { field, option, reason } = error.details;
        return [json(400, { error: error.code, field: field ?? option, reason })];
      }
      throw error;
    }
  };
}

function sessionOf(settings: RouteSettings, viewer: Viewer): Session {
  return {
    viewer: viewer.name,
    canTest: viewer.audience !== undefined,
    capabilities: settings.data.capabilities,
    linkOrigins: [...settings.linkOrigins],
    identityAttribute: settings.identityAttribute,
    attributes: [...settings.attributes],
    engagementWarning: settings.engagementWarning,
  };
}
