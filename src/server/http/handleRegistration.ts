import { fail } from '../common/invalidRequest.js';
import { isP256Point } from '../crypto/isP256Point.js';
import type { HandlerOptions, RequestInfo } from './createHandler.js';
import { json, readJson } from './json.js';
import { identifyVisitor } from './identifyVisitor.js';
import { registerSubscription } from './registerSubscription.js';
import { validateRegisterRequest } from './validateRegisterRequest.js';
import { browserFamilyOf } from '../stats/classify.js';

/** `POST {backend}/subscriptions`: a checked registration, saved under the identity `identify` vouches for. */
export async function handleRegistration(request: Request, info: RequestInfo, options: HandlerOptions): Promise<Response> {
  const body = validateRegisterRequest(await readJson(request, options.maxBodyBytes), {
    endpoints: options.endpoints,
    clientAttributes: options.clientAttributes,
  });
  if (!(await isP256Point(body.subscription.keys.p256dh))) fail('subscription.keys.p256dh', 'not-p256-point');
  if (body.sealKey && !(await isP256Point(body.sealKey.p256dh))) fail('sealKey.p256dh', 'not-p256-point');
  const identity = await identifyVisitor(options.identify, request, info.context ?? {});
  if (identity === null) {
    options.observer?.registration('unauthorized');
    return json(401, { error: 'unauthorized' });
  }
  const browser = browserFamilyOf(request.headers.get('user-agent'));
  // After client.logout() the browser asks to be kept without anybody's identity, whoever
  // the session still names; a site that refuses anonymous visitors (null) refuses it too.
  const { anonymous, ...registration } = body;
  const saved = await registerSubscription(options.store, registration, anonymous ? undefined : identity, options.clientAttributes, browser);
  if (saved.outcome === 'conflict') {
    options.observer?.registration('conflict');
    return json(409, { error: 'conflict', field: 'subscription.endpoint' });
  }
  options.observer?.registration(saved.created ? 'created' : 'updated');
  return json(saved.created ? 201 : 200, { id: saved.id });
}
