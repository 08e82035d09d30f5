import type { Attributes, RegisterRequest, SealKey, SubscriptionJSON } from '../../shared/protocol.js';
import { fromBase64Url, fromP256Key } from '../../shared/base64url.js';
import { checkEndpoint, type EndpointPolicy } from '../endpoints/checkEndpoint.js';
import { attributeKeyProblem, attributeValueProblem, ownEntries } from '../common/attributeRules.js';
import { fail, isRecord } from '../common/invalidRequest.js';
import { requestLimits } from '../common/requestLimits.js';
import { knownTimeZone } from '../controls/localClock.js';
import { languageTag } from '../../shared/languageTag.js';

/**
 * Attributes every browser may set (the page SDK records them unless told not to), beside
 * the site's `clientAttributes`: where the visitor is and what they read, for local-time
 * sends, quiet hours and languages. Stored in their canonical form; a zone this server
 * does not know, or a language that is no BCP 47 tag, is left out (the send's own
 * `timeZone`, or the envelope as given, then serve that subscriber).
 */
export const LOCALE_ATTRIBUTES: Record<string, (value: unknown) => string | undefined> = {
  timeZone: knownTimeZone,
  language: languageTag,
};

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
      const locale = Object.hasOwn(LOCALE_ATTRIBUTES, key) ? LOCALE_ATTRIBUTES[key]! : undefined;
      if (locale) {
        if (typeof given[key] !== 'string') fail(`attributes.${key}`, 'not-string');
        const canonical = locale(given[key]);
        if (canonical === undefined) delete given[key];
        else given[key] = canonical;
      } else if (!rules.clientAttributes.includes(key)) fail(`attributes.${key}`, 'not-client-settable');
    }
    out.attributes = given;
  }
  if (body.anonymous !== undefined && body.anonymous !== null) {
    if (typeof body.anonymous !== 'boolean') fail('anonymous', 'not-boolean');
    if (body.anonymous) out.anonymous = true;
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
    // ms since the epoch, as every store can hold it (PostgreSQL's BIGINT refuses 1.5 and
    // 1e20): a whole number up to 2^53 - 1, which JSON carries exactly.
    if (typeof expiration !== 'number' || !Number.isSafeInteger(expiration) || expiration < 0) {
      fail('subscription.expirationTime', 'not-epoch-ms');
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
  const entries = ownEntries(value);
  if (!entries) fail('attributes', 'not-object');
  if (entries.length > requestLimits.attributes) fail('attributes', 'too-many');
  const out: Attributes = {};
  for (const [key, item] of entries) {
    // A browser's keys are plain names (and only those in clientAttributes are kept).
    if (!/^[A-Za-z0-9_.:-]+$/.test(key) || attributeKeyProblem(key)) fail('attributes', 'bad-key');
    const problem = attributeValueProblem(item);
    if (problem) fail(`attributes.${key}`, problem);
    out[key] = item as Attributes[string];
  }
  return out;
}
