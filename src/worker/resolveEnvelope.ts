import { decrypt } from '../shared/aes128gcm.js';
import { fromBase64Url } from '../shared/base64url.js';
import { getValue } from './db.js';
import type { Envelope } from '../shared/protocol.js';
import { TidingsError } from '../shared/TidingsError.js';
import { parseEnvelope } from '../shared/validateEnvelope.js';
import { allowedUrl } from './allowedUrl.js';
import { fetchWithRetry } from './fetchWithRetry.js';
import { utf8 } from './readPush.js';
import type { WorkerContext } from './WorkerContext.js';

/**
 * Follows `sealed` (opens it with the seal key the page stored) and `fetch` (GETs the
 * full envelope) until the envelope is plain. A fetched envelope may be sealed; the chain
 * is bounded, so a loop of references cannot keep the worker busy.
 */
export async function resolveEnvelope(w: WorkerContext, envelope: Envelope): Promise<Envelope> {
  for (let hops = 0; envelope.sealed || envelope.fetch; hops++) {
    if (hops > 2) throw new TidingsError('invalid-envelope', { reason: 'nested' });
    envelope = envelope.sealed ? await openSealed(w, envelope.sealed) : await fetchEnvelope(w, envelope.fetch!);
  }
  return envelope;
}

async function openSealed(w: WorkerContext, sealed: string): Promise<Envelope> {
  // Read once per worker: once made, the key never changes (getSealKey never overwrites
  // it). None found is not kept, so a key a page makes later is read at the next push.
  const key = await (w.sealKey ??= w.db().then((db) => db && getValue(db, 'sealKey')).catch(() => undefined));
  if (!key) w.sealKey = undefined;
  const body = fromBase64Url(sealed);
  if (!key || !body) throw new TidingsError('unseal-failed', { reason: 'unseal', field: key ? 'base64' : 'no-key' });
  const plain = await decrypt(body, {
    privateKey: key.privateKey,
    publicKey: fromBase64Url(key.publicKey.p256dh)!,
    auth: fromBase64Url(key.publicKey.auth)!,
  });
  return parseEnvelope(utf8(plain));
}

async function fetchEnvelope(w: WorkerContext, raw: string): Promise<Envelope> {
  const url = allowedUrl(w.options, raw);
  if (!url) throw new TidingsError('fetch-failed', { reason: 'url-refused' });
  let response: Response;
  try {
    response = await fetchWithRetry(url, w.options.timeout);
  } catch (cause) {
    throw new TidingsError('fetch-failed', { reason: 'fetch', cause });
  }
  if (!response.ok) throw new TidingsError('fetch-failed', { reason: 'fetch', status: response.status });
  return parseEnvelope(await response.text());
}
