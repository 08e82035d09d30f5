import { assets, icon, script, style } from 'tidings:dashboard-assets';
import { integerOption, invalidOption as invalid, originListOption, pathOption } from '../server/common/checkOptions.js';
import { requestLimits } from '../server/common/requestLimits.js';
import { json } from '../server/http/json.js';
import { markUnrouted } from '../server/http/unrouted.js';
import { createDashboardData } from './data/createDashboardData.js';
import type { Dashboard, DashboardOptions } from './dashboardTypes.js';
import { createRoutes, type RouteSettings } from './http/createRoutes.js';
import { pageShell } from './http/pageShell.js';
import { secure } from './http/securityHeaders.js';

/**
 * The operator's pages (overview, messages, a message, audience, compose) as one Fetch-API
 * handler, mounted like `push.handler`. `authorize` decides every request, pages, assets
 * and data alike; nothing is open by default. Options are checked here, once; a bad one
 * throws TidingsError `invalid-option`.
 */
export function createDashboard(options: DashboardOptions): Dashboard {
  if (typeof options?.authorize !== 'function') invalid('authorize', 'is required: a function that says who may use the dashboard');
  const basePath = pathOption(options.basePath, '/dashboard', 'basePath');
  const routePath = pathOption(options.routePath, basePath, 'routePath');
  const engagementWarning = options.engagementWarning ?? 0.01;
  if (typeof engagementWarning !== 'number' || !(engagementWarning > 0 && engagementWarning < 1)) invalid('engagementWarning', 'must be a number between 0 and 1');
  const onError = options.onError ?? ((error: unknown) => console.error('tidings dashboard:', error));
  if (typeof onError !== 'function') invalid('onError', 'must be a function');
  const identityAttribute = options.identityAttribute ?? 'user';
  if (!isAttributeKey(identityAttribute)) invalid('identityAttribute', 'must be an attribute key (1 to 64 characters)');
  const attributes = options.attributes ?? [];
  if (!Array.isArray(attributes) || !attributes.every(isAttributeKey)) invalid('attributes', 'must be a list of attribute keys');

  const settings: RouteSettings = {
    authorize: options.authorize,
    data: createDashboardData(options.push, options.queue, { engagementWarning, identityAttribute }),
    canCancel: typeof options.queue?.cancel === 'function' || typeof options.push.cancel === 'function',
    allowedOrigins: originListOption(options.allowedOrigins, 'allowedOrigins'),
    linkOrigins: originListOption(options.linkOrigins, 'linkOrigins'),
    identityAttribute,
    attributes: [...attributes],
    engagementWarning,
    maxBodyBytes: integerOption(options.maxBodyBytes, requestLimits.body, 'maxBodyBytes'),
    shell: pageShell(basePath, script, style, icon),
    assets: new Map(assets.map((asset) => [asset.name, asset])),
  };
  const route = createRoutes(settings);

  return {
    async handler(request, info = {}) {
      let url: URL;
      try {
        url = new URL(request.url);
      } catch {
        return secure(json(400, { error: 'invalid-request', field: 'url' }));
      }
      const path = url.pathname;
      if (path !== routePath && !path.startsWith(`${routePath}/`)) return markUnrouted(json(404, { error: 'not-found' }));
      try {
        return secure(...(await route(request, url, path.slice(routePath.length), info)));
      } catch (error) {
        onError(error);
        return secure(json(500, { error: 'internal' }));
      }
    },
  };
}

function isAttributeKey(key: unknown): key is string {
  return typeof key === 'string' && key.length > 0 && key.length <= requestLimits.attributeKey;
}
