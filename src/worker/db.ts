import { wrap, type DBSchema, type IDBPDatabase } from 'idb';
import type { Attributes, SealKey, SubscriptionJSON, TidingsEvent } from '../shared/protocol.js';
import { TidingsError } from '../shared/TidingsError.js';

/** The one IndexedDB database of tidings, shared by the page and the worker (same origin). */
export const DB_NAME = 'tidings';
export const DB_VERSION = 1;

/** What the page and worker last agreed with the backend. A page load that finds this unchanged sends nothing. */
export interface SyncState {
  endpoint: string;
  /** The id the backend answered with; DELETE uses it. */
  backendId: string;
  /** The VAPID public key the subscription was made with. */
  vapidPublicKey: string;
  /**
   * What was registered with it, kept as is (not hashed) so the worker can register a
   * changed subscription with the same attributes and seal key (pushsubscriptionchange).
   */
  attributes?: Attributes;
  sealKey?: SealKey;
  /** Registered without the visitor's identity (after `client.logout()`), until `client.login()`. */
  anonymous?: boolean | undefined;
  expirationTime: number | null;
  /** ms since the epoch. */
  syncedAt: number;
}

/**
 * A registration (or deletion) the backend has not yet acknowledged; retried by page or
 * worker with their own backend options. Headers are not stored: they may be secrets.
 */
export interface PendingRegistration {
  op: 'register' | 'unregister';
  /** To register (with the fields below); absent for 'unregister'. */
  subscription?: SubscriptionJSON | undefined;
  vapidPublicKey?: string | undefined;
  attributes?: Attributes | undefined;
  sealKey?: SealKey | undefined;
  anonymous?: boolean | undefined;
  /** A backend id to DELETE first: the one unregistered, or the one a new registration replaces. */
  backendId?: string | undefined;
  /** The fields (`attributes.<key>`) carried over from an earlier registration, which a 400 naming them drops. */
  kept?: string[] | undefined;
  /** Failed attempts so far, across page loads. */
  attempts: number;
  /** When the last failure suggests trying again, ms since the epoch. */
  nextAttemptAt?: number;
  lastError?: string;
  /**
   * Only a page can finish it: it was queued with the page's headers or adapter (never
   * stored), or the backend refused the worker's request without them (401/403).
   */
  needsPage?: boolean;
}

/** The seal key pair: the private half is a non-extractable CryptoKey, stored as is. */
export interface StoredSealKey {
  privateKey: CryptoKey;
  /** Raw public key (65 bytes) and auth secret (16 bytes), base64url, as registered. */
  publicKey: SealKey;
  createdAt: number;
}

/** Soft prompt back-off: "later" pushes the next showing 3, 7, then 30 days out. */
export interface PromptState {
  laters: number;
  nextAt: number;
}

/** An analytics event waiting in the outbox; `seq` keeps insertion order. */
export interface OutboxEntry {
  seq?: number;
  event: TidingsEvent;
}

export interface SeenMessage {
  id: string;
  at: number;
}

/** Small named values. Each key holds one kind of record. */
export interface KeyValues {
  sync: SyncState;
  pending: PendingRegistration;
  sealKey: StoredSealKey;
  prompt: PromptState;
}

export interface TidingsDB extends DBSchema {
  kv: { key: keyof KeyValues; value: KeyValues[keyof KeyValues] };
  outbox: { key: number; value: OutboxEntry; indexes: { id: string } };
  seen: { key: string; value: SeenMessage; indexes: { at: number } };
}

export type TidingsDatabase = IDBPDatabase<TidingsDB>;

/**
 * Opens the tidings database (creating its stores on first use). Rejects with
 * TidingsError `storage-failed` where IndexedDB is missing or refused (private modes).
 * Callers open it lazily, when a function needs it: nothing is opened at import.
 */
export async function openTidingsDB(): Promise<TidingsDatabase> {
  try {
    // idb's wrap() of the open request, not openDB(): openDB only adds the blocked,
    // blocking and terminated callbacks, which tidings never passes, and they were bytes in
    // the worker. The stores are made on the raw database, whose API idb's merely mirrors.
    // Where IndexedDB is missing, reading `open` throws, and that is the error reported.
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      db.createObjectStore('kv');
      db.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true }).createIndex('id', 'event.id', { unique: true });
      db.createObjectStore('seen', { keyPath: 'id' }).createIndex('at', 'at');
    };
    return (await wrap(request)) as TidingsDatabase;
  } catch (cause) {
    throw new TidingsError('storage-failed', { cause, reason: String(cause) });
  }
}

// The three below return the request's promise as it is: an async wrapper would be
// bytes in the worker for nothing.

/** Reads one named value, typed by its key. */
export const getValue = <K extends keyof KeyValues>(db: TidingsDatabase, key: K): Promise<KeyValues[K] | undefined> =>
  db.get('kv', key) as Promise<KeyValues[K] | undefined>;

/** Writes one named value, typed by its key. */
export const setValue = <K extends keyof KeyValues>(db: TidingsDatabase, key: K, value: KeyValues[K]): Promise<unknown> =>
  db.put('kv', value, key);

export const deleteValue = (db: TidingsDatabase, key: keyof KeyValues): Promise<void> => db.delete('kv', key);

/** Runs `task` with the database open, and closes it after, so no connection blocks a later upgrade. */
export async function withTidingsDB<T>(task: (db: TidingsDatabase) => Promise<T>): Promise<T> {
  const db = await openTidingsDB();
  try {
    return await task(db);
  } finally {
    db.close();
  }
}
