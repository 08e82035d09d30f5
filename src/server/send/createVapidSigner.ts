import type WebPush from 'web-push';
import type { VapidDetails } from '../crypto/generateVapidKeys.js';
import { requireOptional } from '../common/requireOptional.js';
import { createBoundedMap } from '../common/createBoundedMap.js';
import { runtimeName, type RuntimeName } from '../common/runtimeName.js';
import { vapidAuthorization } from '../crypto/vapidAuthorization.js';

/** Tokens live 12 h (web-push's default); a fresh one is made an hour before that. */
const LIFETIME_SECONDS = 12 * 60 * 60;
const RENEW_BEFORE_SECONDS = 60 * 60;
/** Origins whose token is kept: a handful of push services in practice, but whoever registers picks them. */
const MAX_ORIGINS = 1024;

/**
 * Makes the VAPID `Authorization` header for a push-service origin, signing once per
 * origin and reusing the token until it nears expiry (RFC 8292 allows reuse; `aud` is
 * the origin, not the endpoint). Signing through web-push costs about 1 ms, which was
 * half of the per-message cost in the fan-out bench. The tokens kept are bounded (the
 * least recently used go first): 50,000 junk origins once left 38 MB here for good.
 * workerd cannot load web-push (it has no `require`): there node:crypto signs the same
 * token (vapidAuthorization).
 */
export function createVapidSigner(vapid: VapidDetails, now: () => number = Date.now, runtime: RuntimeName = runtimeName()): (origin: string) => string {
  const signed = runtime === 'workerd' ? (origin: string, expiration: number) => vapidAuthorization(origin, vapid, expiration) : webPushSigner(vapid);
  const cache = createBoundedMap<string, { header: string; renewAt: number }>(MAX_ORIGINS);
  return (origin) => {
    const seconds = Math.floor(now() / 1000);
    const cached = cache.get(origin);
    if (cached && cached.renewAt > seconds) return cached.header;
    const expiration = seconds + LIFETIME_SECONDS;
    const header = signed(origin, expiration);
    cache.set(origin, { header, renewAt: expiration - RENEW_BEFORE_SECONDS });
    return header;
  };
}

function webPushSigner(vapid: VapidDetails): (origin: string, expiration: number) => string {
  // Loaded here, when a server is made, so a missing web-push fails at once and by name.
  const webpush = requireOptional<typeof WebPush>('web-push', '3');
  return (origin, expiration) => webpush.getVapidHeaders(origin, vapid.subject, vapid.publicKey, vapid.privateKey, 'aes128gcm', expiration).Authorization;
}
