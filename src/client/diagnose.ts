import type { StoredSync } from '../shared/protocol.js';
import type { PushState } from './PushClient.js';
import { homeScreenRequired } from './isSupported.js';

/**
 * Why push does or does not work on this page: a plain object to paste into a bug report.
 * It has the fields of PushState (missing if they could not be read), and these.
 */
export interface Diagnosis extends Partial<PushState> {
  secureContext: boolean;
  /** Which of the APIs tidings uses exist here, by their global names. */
  apis: Record<string, boolean>;
  /** iOS/iPadOS outside a Home Screen web app: push needs the site added to the Home Screen. */
  homeScreenRequired?: boolean | undefined;
  /** The service worker registration tidings uses, if any. */
  worker: { scope: string; state: ServiceWorkerState | undefined } | null;
  /** The push subscription, if any: its endpoint's origin only, and whether this VAPID key made it. */
  subscription: { endpointOrigin: string; expirationTime: number | null; keyMatches: boolean } | null;
  /** The backend's id for this browser, when it was last synced, and the operation still queued (never the endpoint). */
  backend?: (Omit<StoredSync, 'endpoint'> & { endpoint?: undefined }) | undefined;
  /** Parts that could not be read. */
  errors: string[];
}

/** Builds the Diagnosis. Each part is read on its own; nothing throws. */
export async function diagnose(
  getState: () => Promise<PushState>,
  keyMatches: (subscription: PushSubscription) => boolean,
  find: (() => Promise<ServiceWorkerRegistration | undefined>) | undefined,
  read: (registration: ServiceWorkerRegistration | undefined) => Promise<StoredSync | undefined>,
): Promise<Diagnosis> {
  const errors: string[] = [];
  const safe = async <T>(part: () => T | Promise<T>): Promise<T | undefined> => {
    try {
      return await part();
    } catch (error) {
      errors.push(String(error));
    }
  };
  const registration = find && (await safe(find));
  const subscription = await safe(() => registration?.pushManager.getSubscription());
  const stored = await safe(() => read(registration));
  const has = (names: string, where: object): [string, boolean][] => names.split(' ').map((name) => [name, name in where]);
  return {
    ...(await safe(getState)),
    secureContext: !!window.isSecureContext,
    apis: Object.fromEntries([
      ...has('serviceWorker permissions locks', navigator),
      ...has('PushManager Notification indexedDB', window),
    ]),
    homeScreenRequired: await safe(homeScreenRequired),
    worker: registration
      ? { scope: registration.scope, state: (registration.active ?? registration.waiting ?? registration.installing)?.state }
      : null,
    subscription: subscription
      ? {
          endpointOrigin: new URL(subscription.endpoint).origin,
          expirationTime: subscription.expirationTime,
          keyMatches: keyMatches(subscription),
        }
      : null,
    // The endpoint acts as a credential: only its origin is reported.
    backend: stored && { ...stored, endpoint: undefined },
    errors,
  };
}
