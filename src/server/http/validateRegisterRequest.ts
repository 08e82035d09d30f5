import type { Attributes, RegisterRequest, SealKey, SubscriptionJSON } from '../../shared/protocol.js';
import { fromBase64Url, fromP256Key } from '../../shared/base64url.js';
import { checkEndpoint, type EndpointPolicy } from '../endpoints/checkEndpoint.js';
import { fail, isRecord } from '../common/invalidRequest.js';
import { requestLimits } from '../common/requestLimits.js';

export interface RegisterRules {
  /** Which push services (and whether loopback ones) an endpoint may name. */
  endpoints: EndpointPolicy;
  /** Attribute keys a browser may set; any other key is refused. */
  clientAttributes: readonly string[];
}

/**
 * Turns an untrusted `POST /subscriptions` body into a RegisterRequest built from known
 * fields only, or throws TidingsError `invalid-request` naming the field. Attributes are
 * kept only for the keys in `clientAttributes`: who a visitor is comes from the site's
 * server (`identify`), never from the browser.
 */
export function validateRegisterRequest(body: unknown, rules: RegisterRules): RegisterRequest {
  if (!isRecord(body)) fail('body', 'not-object');
  const out: RegisterRequest = { subscription: subscription(body.subscription, rules.endpoints) };
  if (body.sealKey !== undefined && body.sealKey !== null) out.sealKey = keys(body.sealKey, 'sealKey');
  if (body.attributes !== undefined && body.attributes !== null) {
    const given = attributes(body.attributes);
    for (const key of Object.keys(given)) {
      if (!rules.clientAttributes.includes(key)) fail(`attributes.${key}`, 'not-client-settable');
    }
    out.attributes = given;
  }
  return out;
}

function subscription(value: unknown, endpoints: EndpointPolicy): SubscriptionJSON {
  if (!isRecord(value)) fail('subscription', 'not-object');
  const out: SubscriptionJSON = {
    endpoint: checkEndpoint(value.endpoint, endpoints),
    keys: keys(value.keys, 'subscription.keys'),
  };
  const expiration = value.expirationTime;
  if (expiration !== undefined && expiration !== null) {
    if (typeof expiration !== 'number' || !Number.isFinite(expiration) || expiration < 0) {
      fail('subscription.expirationTime', 'not-non-negative-number');
    }
    out.expirationTime = expiration;
  } else {
    out.expirationTime = null;
  }
  return out;
}

function keys(value: unknown, field: string): SealKey {
  if (!isRecord(value)) fail(field, 'not-object');
  if (!fromP256Key(value.p256dh)) fail(`${field}.p256dh`, 'not-p256-key');
  const auth = fromBase64Url(value.auth as string);
  if (!auth || auth.length !== 16) fail(`${field}.auth`, 'not-16-bytes');
  return { p256dh: value.p256dh as string, auth: value.auth as string };
}

function attributes(value: unknown): Attributes {
  if (!isRecord(value)) fail('attributes', 'not-object');
  const entries = Object.entries(value);
  if (entries.length > requestLimits.attributes) fail('attributes', 'too-many');
  const out: Attributes = {};
  for (const [key, item] of entries) {
    // __proto__ would pass the pattern and then not be an own property of `out`.
    if (!/^[A-Za-z0-9_.:-]+$/.test(key) || key.length > requestLimits.attributeKey || key === '__proto__') {
      fail('attributes', 'bad-key');
    }
    const field = `attributes.${key}`;
    if (typeof item === 'string') {
      if (item.length > requestLimits.attributeValue) fail(field, 'too-long');
      if (!isPlainText(item)) fail(field, 'control-or-lone-surrogate');
    } else if (typeof item === 'number') {
      if (!Number.isFinite(item)) fail(field, 'not-finite');
    } else if (typeof item !== 'boolean') {
      fail(field, 'not-scalar');
    }
    out[key] = item;
  }
  return out;
}

/**
 * No control characters (C0, DEL, C1) and no lone surrogates: attributes end up in
 * logs, terminals and other systems' queries, where either can do harm or break JSON.
 */
export function isPlainText(text: string): boolean {
  return !/[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text);
}
