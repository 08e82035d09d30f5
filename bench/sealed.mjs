// Sealed: the cost of opening a sealed envelope in the worker, against a plain envelope
// to the same worker in the same run. The page keeps the seal key as tidings does (a
// non-extractable ECDH private key in IndexedDB `tidings`, store `kv`, key `sealKey`); Node
// seals with web-push's own encrypt(), the RFC 8291 scheme DESIGN.md names.
import webpush from 'web-push';
import { envelope, interleave, report } from './latency.mjs';

/**
 * Creates a seal key in the page and stores it where the tidings worker looks. The tidings
 * worker creates the database (warm it with a push first); if it has not, the page leaves
 * it alone and this resolves null, so the bench never writes a schema of its own.
 */
async function storeSealKey(session) {
  await session.page.goto(`${session.origin}/bench.html`);
  return session.page.evaluate(async () => {
    const db = await new Promise((resolve, reject) => {
      const open = indexedDB.open('tidings');
      open.onupgradeneeded = () => open.transaction.abort();
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => resolve(null);
      open.onblocked = () => reject(new Error('tidings database blocked'));
    });
    if (!db || !db.objectStoreNames.contains('kv')) return null;
    const pair = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
    const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    const publicKey = {
      p256dh: b64url(await crypto.subtle.exportKey('raw', pair.publicKey)),
      auth: b64url(crypto.getRandomValues(new Uint8Array(16))),
    };
    await new Promise((resolve, reject) => {
      const tx = db.transaction('kv', 'readwrite');
      tx.objectStore('kv').put({ privateKey: pair.privateKey, publicKey, createdAt: Date.now() }, 'sealKey');
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
    });
    db.close();
    return publicKey;
  });
}

/** `{v: 1, id, sealed}` whose record opens to the plain envelope of `id`. */
function sealedEnvelope(id, sealKey) {
  const record = webpush.encrypt(sealKey.p256dh, sealKey.auth, Buffer.from(envelope(id)), 'aes128gcm').cipherText;
  return JSON.stringify({ v: 1, id, sealed: Buffer.from(record).toString('base64url') });
}

/** Plain vs sealed pushes to the tidings worker at `scope`, interleaved; pending until the worker opens seals. */
export async function sealedCost(session, scope, rounds) {
  await session.timePush(scope, envelope(`seal-warm-${Date.now()}`));
  const sealKey = await storeSealKey(session);
  await session.leave();
  if (!sealKey) return { pending: 'the tidings worker did not create its IndexedDB database, so there is nowhere to keep a seal key' };
  const contenders = [
    { name: 'plain', scope, payload: (id) => envelope(id) },
    { name: 'sealed', scope, payload: (id) => sealedEnvelope(id, sealKey) },
  ];
  // A sealed push that the worker opened shows the title inside the seal.
  const probe = await interleave(session, contenders, 1);
  if (![...probe.get('sealed').titles].every((title) => title.startsWith('Message sealed-'))) {
    return { pending: `the tidings worker does not open sealed envelopes yet (it showed "${[...probe.get('sealed').titles][0]}")` };
  }
  await interleave(session, contenders, Math.min(10, rounds));
  const rows = report(await interleave(session, contenders, rounds), 'plain');
  return { ...rows, openingCostMs: Math.round((rows.sealed.handled.median - rows.plain.handled.median) * 1000) / 1000 };
}
