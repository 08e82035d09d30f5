import { integerOption as integer, invalidOption as invalid } from '../common/checkOptions.js';
import { DEFAULT_PUSH_SERVICES, type EndpointPolicy } from '../endpoints/checkEndpoint.js';
import { createCircuitBreaker } from './createCircuitBreaker.js';
import { createNodeTransport } from './transport/createNodeTransport.js';
import { createFetchTransport } from './transport/createFetchTransport.js';
import type { Transport } from './transport/Transport.js';
import { runtimeName } from '../common/runtimeName.js';
import { createVapidSigner } from './createVapidSigner.js';
import type { DeliveryPolicy } from './deliver.js';
import type { VapidDetails } from '../crypto/generateVapidKeys.js';

const DAY = 86_400_000;

/** The options of createPushServer that say how pushes are delivered (documented there). */
export interface DeliveryOptions {
  timeout?: number;
  retries?: number;
  maxRetryDelay?: number;
  allowLoopbackEndpoints?: boolean;
  pushServices?: readonly string[] | 'any';
  circuitBreakerFailures?: number;
  circuitBreakerCoolDown?: number;
  pruneFailingAfterDays?: number;
  idleTimeout?: number;
  ca?: string | readonly string[];
  http2?: boolean;
  transport?: 'node' | 'fetch';
}

/**
 * Checks the delivery options once and builds what every send shares: the VAPID
 * signer, the endpoint policy, the transport (its kept-alive connections) and the
 * circuit breaker (its memory of failing hosts). A bad option throws `invalid-option`.
 */
export function createDeliveryPolicy(vapid: VapidDetails, options: DeliveryOptions): DeliveryPolicy {
  const endpoints: EndpointPolicy = {
    pushServices: pushServices(options.pushServices),
    allowLoopbackEndpoints: options.allowLoopbackEndpoints === true,
  };
  const timeout = integer(options.timeout, 10_000, 'timeout', 1);
  const retries = integer(options.retries, 2, 'retries', 0);
  const maxRetryDelay = integer(options.maxRetryDelay, 30_000, 'maxRetryDelay', 0);
  const failures = integer(options.circuitBreakerFailures, 10, 'circuitBreakerFailures', 1);
  const coolDown = integer(options.circuitBreakerCoolDown, 60_000, 'circuitBreakerCoolDown', 0);
  const pruneFailingAfter = integer(options.pruneFailingAfterDays, 7, 'pruneFailingAfterDays', 1) * DAY;
  const idleTimeout = integer(options.idleTimeout, 30_000, 'idleTimeout', 1);
  const ca = certificates(options.ca);
  if (options.http2 !== undefined && typeof options.http2 !== 'boolean') invalid('http2', 'must be true or false');
  const transport = chooseTransport(options, endpoints.allowLoopbackEndpoints, idleTimeout, ca);
  return {
    authorization: createVapidSigner(vapid),
    timeout,
    retries,
    maxRetryDelay,
    endpoints,
    transport,
    // Silence from a host is asked about (any answer to a request that is not a push) before it opens the circuit.
    breaker: createCircuitBreaker({ failures, coolDown, ...(transport.alive && { alive: (origin: string) => transport.alive!(origin, timeout) }) }),
    pruneFailingAfter,
  };
}

/**
 * node:http and node:http2 (every address checked at connect time) where the runtime has
 * them as Node's own (Node, Bun, Deno: their `lookup` and `tls.connect` hooks are honoured,
 * docs/runtimes.md), `fetch` elsewhere (workerd) or when asked.
 */
function chooseTransport(options: DeliveryOptions, allowLoopback: boolean, idleTimeout: number, ca: string[] | undefined): Transport {
  const runtime = runtimeName();
  const kind = options.transport ?? (runtime === 'node' || runtime === 'bun' || runtime === 'deno' ? 'node' : 'fetch');
  if (kind === 'node') return createNodeTransport({ allowLoopback, idleTimeout, ca, http2: options.http2 !== false });
  if (kind !== 'fetch') invalid('transport', "must be 'node' or 'fetch'");
  // fetch trusts the runtime's own authorities; there is no way to hand it more.
  if (ca) invalid('ca', "is not supported by the 'fetch' transport");
  return createFetchTransport({ allowLoopback });
}

/** `'any'`, or host patterns: `name`, `*.name`, either with `:port`. */
function pushServices(value: DeliveryOptions['pushServices']): EndpointPolicy['pushServices'] {
  if (value === undefined) return DEFAULT_PUSH_SERVICES;
  if (value === 'any') return 'any';
  if (!Array.isArray(value)) invalid('pushServices', "must be 'any' or a list of hosts");
  return value.map((entry: unknown) => {
    const host = typeof entry === 'string' ? entry.toLowerCase() : '';
    const match = /^(\*\.)?([a-z0-9-]+(?:\.[a-z0-9-]+)+)(?::(\d{1,5}))?$/.exec(host);
    if (!match || Number(match[3] ?? 443) > 65535) invalid('pushServices', `${String(entry)} is not a host, *.host or host:port`);
    return host.replace(/:443$/, '');
  });
}


/** PEM certificates of extra authorities to trust, one or a list. */
function certificates(value: DeliveryOptions['ca']): string[] | undefined {
  if (value === undefined) return undefined;
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.some((pem) => typeof pem !== 'string' || !pem.includes('-----BEGIN CERTIFICATE-----'))) {
    invalid('ca', 'must be a PEM certificate or a list of them');
  }
  return [...list];
}
