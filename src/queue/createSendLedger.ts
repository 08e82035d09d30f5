import { createHash } from 'node:crypto';
import type { PreparedMessage } from '../server/send/createSender.js';
import type { SubscriptionQuery } from '../server/stores/SubscriptionStore.js';
import type { OutcomeFacts } from '../server/stats/createSendTally.js';
import type { SendUpdate } from '../server/stores/insightRows.js';
import type { SendFailure } from '../server/stats/statsTypes.js';
import { TidingsError } from '../shared/TidingsError.js';
import type { SendState, SendStatus } from './queueTypes.js';
import type { SendControls } from '../server/controls/sendControls.js';
import type { SendSlice } from '../server/controls/planSlices.js';
import { bookSlots, slotTime, SPREAD_MS } from '../server/controls/createPacer.js';

/** What a queued send is, kept in Redis beside its jobs (the jobs carry only ids and cursors). */
export interface SendRecord {
  /**
   * The record's shape: 1 since ids were escaped in keys. Absent in records of tidings
   * 0.1.0, which have the same fields. A sender refuses a shape it does not know.
   */
  v?: number;
  /** The message (a slice's record has none: it sends its parent's). */
  message?: PreparedMessage;
  query: SubscriptionQuery;
  batchSize: number;
  /** Its sending controls (caps, throttle), as send() checked them. */
  controls?: SendControls;
  /**
   * A send that goes in slices (local time, quiet hours): the id of each slice, a send of
   * its own in the ledger, whose counts this one adds up. A slice's record names its
   * `parent`, its `slice` (whose subscribers it sends to) and whether it is `deferred`.
   */
  children?: string[];
  parent?: string;
  slice?: SendSlice;
  deferred?: boolean;
}

/** The slices of a sliced send, from its stored record (which a sender checks before trusting it). */
function childrenOf(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  try {
    const children = (JSON.parse(text) as { children?: unknown }).children;
    return Array.isArray(children) && children.every((child) => typeof child === 'string') ? children : undefined;
  } catch {
    return undefined;
  }
}

/** The record shape this version writes and reads. */
export const RECORD_VERSION = 1;

/** What became of one subscriber, as counted. */
export type Outcome = 'sent' | 'gone' | 'failed' | 'capped';

/** The few Redis commands the ledger needs; BullMQ's own ioredis client has them. */
export interface LedgerClient {
  hsetnx(key: string, field: string, value: string): Promise<number>;
  hset(key: string, ...fieldsAndValues: string[]): Promise<number>;
  hgetall(key: string): Promise<Record<string, string>>;
  hget(key: string, field: string): Promise<string | null>;
  hmget(key: string, ...fields: string[]): Promise<(string | null)[]>;
  hincrby(key: string, field: string, increment: number): Promise<number>;
  get(key: string): Promise<string | null>;
  type(key: string): Promise<string>;
  expire(key: string, seconds: number): Promise<number>;
  eval(script: string, numberOfKeys: number, ...args: (string | number)[]): Promise<unknown>;
  evalsha(sha: string, numberOfKeys: number, ...args: (string | number)[]): Promise<unknown>;
}

// Each script runs atomically in Redis, so two senders running the same batch (one of
// them stalled, not dead) still agree on the batch's members and count each subscriber once.

/** Fixes batch k's members on its first run; a rerun gets the same ones back. */
const PLAN = `
local existing = redis.call('GET', KEYS[2])
if existing then return existing end
redis.call('SET', KEYS[2], ARGV[1])
redis.call('HINCRBY', KEYS[1], 'planned', ARGV[2])
-- The highest batch planned, so an ending that is not done (cancel, fail) can expire them all.
local high = tonumber(redis.call('HGET', KEYS[1], 'highBatch') or '-1')
if tonumber(ARGV[4]) > high then redis.call('HSET', KEYS[1], 'highBatch', ARGV[4]) end
if ARGV[3] == '1' then redis.call('HSET', KEYS[1], 'lastBatch', ARGV[4]) end
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'queued' or state == 'scheduled' then redis.call('HSET', KEYS[1], 'state', 'running', 'startedAt', ARGV[5]) end
-- Planned by a batch still running when its send ended (cancelled, failed): kept a while only.
if state == 'cancelled' or state == 'failed' then redis.call('EXPIRE', KEYS[2], ARGV[6]) end
return ARGV[1]`;

/**
 * Counts each (subscriber, outcome, push service, failure cause and host, sample reason)
 * unless that subscriber was counted already: the outcome, the outcome per push service,
 * and a failure per cause and host with its first sample, all at once, so the send log's
 * figures are as exact as the counts.
 */
export const RECORD = `
local counted = 0
for i = 1, #ARGV, 5 do
  if redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1]) == 1 then
    redis.call('HINCRBY', KEYS[1], ARGV[i + 1], 1)
    if ARGV[i + 2] ~= '' then redis.call('HINCRBY', KEYS[1], 'service:' .. ARGV[i + 2] .. ':' .. ARGV[i + 1], 1) end
    if ARGV[i + 3] ~= '' then
      redis.call('HINCRBY', KEYS[1], 'failure:' .. ARGV[i + 3], 1)
      redis.call('HSETNX', KEYS[1], 'sample:' .. ARGV[i + 3], ARGV[i + 4])
    end
    counted = counted + 1
  end
end
return counted`;

/** Marks batch k done; the send is done when every batch up to the last one is. */
const COMPLETE = `
redis.call('SADD', KEYS[2], ARGV[1])
local last = redis.call('HGET', KEYS[1], 'lastBatch')
local state = redis.call('HGET', KEYS[1], 'state')
-- A cancelled or failed send is never done; the batches that ran keep their keys a while only.
if state == 'cancelled' or state == 'failed' then redis.call('EXPIRE', ARGV[3] .. ARGV[1], ARGV[4]) end
if last and state ~= 'done' and state ~= 'failed' and state ~= 'cancelled' and redis.call('SCARD', KEYS[2]) == tonumber(last) + 1 then
  redis.call('HSET', KEYS[1], 'state', 'done', 'finishedAt', ARGV[2])
  for i = 0, tonumber(last) do redis.call('EXPIRE', ARGV[3] .. i, ARGV[4]) end
  redis.call('EXPIRE', KEYS[2], ARGV[4])
  redis.call('EXPIRE', KEYS[3], ARGV[4])
  redis.call('EXPIRE', KEYS[1], ARGV[5])
  return 1
end
return 0`;

/**
 * Ends a send that has not ended as cancelled or failed (ARGV[1]), with its time and, when
 * failed, why: its record, counts and outcomes are kept as a finished send's, and every
 * batch it planned expires as a done send's do (a send that never ends must not leave
 * keys in Redis for ever). A send that had ended keeps its ending: 0.
 */
const END = `
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'done' or state == 'failed' or state == 'cancelled' then return 0 end
if not state and ARGV[1] == 'cancelled' then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'finishedAt', ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'error', ARGV[3]) end
local high = tonumber(redis.call('HGET', KEYS[1], 'highBatch') or redis.call('HGET', KEYS[1], 'lastBatch') or '-1')
for i = 0, high do redis.call('EXPIRE', ARGV[4] .. i, ARGV[5]) end
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('EXPIRE', KEYS[2], ARGV[6])
redis.call('EXPIRE', KEYS[3], ARGV[6])
return 1`;

/**
 * Books throttle slots for a send shared by every sender (createPacer's rule: at most n
 * starts in each clock second, spread over its first SPREAD_MS), by Redis's own clock, so
 * the senders' clocks need not agree. Answers the window, the first slot, the count and
 * Redis's time.
 */
const BOOK = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = tonumber(ARGV[1])
local spread = tonumber(ARGV[3])
local window = tonumber(redis.call('HGET', KEYS[1], 'window') or '-1')
local taken = tonumber(redis.call('HGET', KEYS[1], 'taken') or '0')
local current = math.floor(now / 1000)
if window < current then
  local into = now - current * 1000
  if into < spread then window = current; taken = math.ceil(n * into / spread) else window = current + 1; taken = 0 end
end
if taken >= n then window = window + 1; taken = 0 end
local count = math.min(tonumber(ARGV[2]), n - taken)
redis.call('HSET', KEYS[1], 'window', window, 'taken', taken + count)
redis.call('PEXPIRE', KEYS[1], 60000)
return { window, taken, count, now }`;

/** How long the members and outcomes of a finished send are kept (s): long enough for a late rerun. */
const WORKING_KEYS_TTL = 3600;
/** How long a finished send's status can be read (s). */
const STATUS_TTL = 7 * 86_400;

/**
 * A message id as it appears in a key: `%` and `:` escaped, so one send's id can never
 * spell another send's keys (`order-7:batch:0` was the first batch of `order-7`). An id
 * without either (every generated id, most of a site's own) is its own key part, as it was
 * before escaping: sends queued by tidings 0.1.0 are read where they are.
 */
export function idKey(id: string): string {
  return id.replace(/%/g, '%25').replace(/:/g, '%3A');
}

/**
 * A send's record, progress and exact counts in Redis, under `tidings:{name}:send:{id}`
 * (the id escaped, see idKey). Outcomes are kept per subscriber (`…:outcomes`), so a batch
 * taken again after a crash skips whom it already reached and counts nobody twice.
 */
export function createSendLedger(client: LedgerClient, name: string) {
  // EVALSHA sends 40 bytes instead of the script; Redis forgets scripts on restart, hence the fallback.
  const shas = new Map<string, string>();
  const run = async (script: string, numberOfKeys: number, ...args: (string | number)[]): Promise<unknown> => {
    let sha = shas.get(script);
    if (!sha) shas.set(script, (sha = createHash('sha1').update(script).digest('hex')));
    try {
      return await client.evalsha(sha, numberOfKeys, ...args);
    } catch (error) {
      if (!String((error as Error).message).includes('NOSCRIPT')) throw error;
      return client.eval(script, numberOfKeys, ...args);
    }
  };
  // Outcomes that arrive in the same turn of the event loop go to Redis in one call: with
  // 50 pushes in flight they come in bursts, and a round trip each would cost more CPU
  // (here and in Redis) than the push itself.
  // The outcomes of one call share one promise: a promise and two closures a push fewer.
  const pending = new Map<string, { pairs: string[]; written: Promise<void>; resolve(): void; reject(error: unknown): void }>();
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    const batches = [...pending];
    pending.clear();
    for (const [id, { pairs, resolve, reject }] of batches) {
      const { status, outcomes } = keys(id);
      run(RECORD, 2, status, outcomes, ...pairs).then(() => resolve(), reject);
    }
  };

  const base = (id: string) => `tidings:${name}:send:${idKey(id)}`;
  const keys = (id: string) => ({
    status: base(id),
    outcomes: `${base(id)}:outcomes`,
    done: `${base(id)}:done`,
    batchPrefix: `${base(id)}:batch:`,
    rate: `${base(id)}:rate`,
  });

  /** A sliced send's state: its own when it ended (cancelled, failed), else what its slices say together. */
  const slicedState = (own: string | undefined, parts: (SendState | undefined)[]): SendState => {
    if (own === 'cancelled' || own === 'failed') return own;
    if (parts.includes('failed')) return 'failed';
    if (parts.every((state) => state === 'done')) return 'done';
    if (parts.some((state) => state === 'running' || state === 'done')) return 'running';
    return parts.includes('queued') ? 'queued' : 'scheduled';
  };

  /** A sliced send's status: its slices' counts added up. */
  async function sliced(id: string, fields: Record<string, string>, children: string[]): Promise<SendStatus> {
    const parts = await Promise.all(children.map((child) => ledger.status(child)));
    const sum = (key: 'sent' | 'gone' | 'failed' | 'capped' | 'deferred' | 'total') => parts.reduce((n, part) => n + (part[key] ?? 0), 0);
    const status: SendStatus = { id, state: slicedState(fields.state, parts.map((part) => part.state)), sent: sum('sent'), gone: sum('gone'), failed: sum('failed') };
    if (sum('capped') > 0) status.capped = sum('capped');
    if (sum('deferred') > 0) status.deferred = sum('deferred');
    if (status.state === 'done') status.total = sum('total');
    const error = parts.find((part) => part.error)?.error;
    if (error) status.error = error;
    return status;
  }

  /** A sliced send as the send log takes it: its slices' progress added up. */
  async function slicedProgress(fields: Record<string, string>, children: string[]): Promise<SendUpdate> {
    const parts = await Promise.all(children.map((child) => ledger.progress(child)));
    const counts: NonNullable<SendUpdate['counts']> = {};
    const services: NonNullable<SendUpdate['services']> = {};
    const failures = new Map<string, SendFailure>();
    for (const part of parts) {
      for (const [key, value] of Object.entries(part.counts ?? {}) as [keyof typeof counts, number][]) counts[key] = (counts[key] ?? 0) + value;
      for (const [service, outcomes] of Object.entries(part.services ?? {})) {
        const row = (services[service] ??= {});
        for (const [outcome, n] of Object.entries(outcomes) as ['sent' | 'gone' | 'failed', number][]) row[outcome] = (row[outcome] ?? 0) + n;
      }
      for (const failure of part.failures ?? []) {
        const key = `${failure.cause} ${failure.host}`;
        const row = failures.get(key);
        if (row) row.count += failure.count;
        else failures.set(key, { ...failure });
      }
    }
    const update: SendUpdate = { counts, services, failures: [...failures.values()], state: slicedState(fields.state, parts.map((part) => part.state)) };
    const started = parts.flatMap((part) => (part.startedAt === undefined ? [] : [part.startedAt]));
    if (started.length > 0) update.startedAt = Math.min(...started);
    if (update.state === 'cancelled' && fields.finishedAt) update.finishedAt = Number(fields.finishedAt);
    else if (update.state === 'done' || update.state === 'failed') update.finishedAt = Math.max(...parts.map((part) => part.finishedAt ?? 0));
    const error = parts.find((part) => part.error)?.error;
    if (error) update.error = error;
    return update;
  }

  const ledger = {
    /**
     * Records a new send (`scheduled` when its first batch waits), with its audience as
     * counted now when known; false when one with this id exists already (its id was reused).
     */
    async create(id: string, record: SendRecord, { state = 'queued', counted }: { state?: 'queued' | 'scheduled'; counted?: number } = {}): Promise<boolean> {
      const { status } = keys(id);
      const created = await client.hsetnx(status, 'record', JSON.stringify(record));
      if (created === 1) {
        await client.hset(status, 'state', state, 'createdAt', String(Date.now()), ...(record.deferred ? ['deferred', '1'] : []), ...(counted === undefined ? [] : ['counted', String(counted)]));
      }
      return created === 1;
    },

    /** A send's state now (undefined: no such send), read by running batches to hear of a cancel. */
    async state(id: string): Promise<SendState | undefined> {
      return ((await client.hget(keys(id).status, 'state')) ?? undefined) as SendState | undefined;
    },

    /** Cancels a send that has not ended; false when it had (or is unknown). */
    async cancel(id: string): Promise<boolean> {
      const { status, outcomes, done, batchPrefix } = keys(id);
      return (await run(END, 3, status, outcomes, done, 'cancelled', Date.now(), '', batchPrefix, WORKING_KEYS_TTL, STATUS_TTL)) === 1;
    },

    /** Books up to `want` throttle slots of a send (BOOK); answers when each starts, in ms from now. */
    async book(id: string, perSecond: number, want: number): Promise<number[]> {
      const [window, first, count, now] = (await run(BOOK, 1, keys(id).rate, perSecond, want, SPREAD_MS)) as number[];
      const grant = { window: window!, first: first!, count: count! };
      return Array.from({ length: grant.count }, (_, i) => slotTime(grant, i, perSecond) - now!);
    },

    /** The record as stored, parsed but not trusted (checkRecord says whether it can be sent). */
    async record(id: string): Promise<unknown> {
      const text = await client.hget(keys(id).status, 'record');
      if (text === null) return undefined;
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return text;
      }
    },

    /**
     * True when tidings 0.1.0 may have queued this id under its unescaped keys, where they
     * can be another send's: such a send is refused, never guessed at.
     */
    async queuedUnescaped(id: string): Promise<boolean> {
      return idKey(id) !== id && (await client.type(`tidings:${name}:send:${id}`)) !== 'none';
    },

    async status(id: string): Promise<SendStatus> {
      const fields = await client.hgetall(keys(id).status);
      // A send that failed before it could be read (its record refused or missing) has a state only.
      if (!fields.record && !fields.state) throw new TidingsError('queue-failed', { reason: `no send with id ${id}` });
      const children = childrenOf(fields.record);
      if (children) return sliced(id, fields, children);
      const status: SendStatus = {
        id,
        state: (fields.state ?? 'queued') as SendState,
        sent: Number(fields.sent ?? 0),
        gone: Number(fields.gone ?? 0),
        failed: Number(fields.failed ?? 0),
      };
      if (fields.capped) status.capped = Number(fields.capped);
      if (fields.deferred === '1') status.deferred = status.sent + status.gone + status.failed;
      // The audience as counted when queued, until its last batch is read: then exactly
      // the subscribers the batches fixed (those who came or went meanwhile included or not).
      if (fields.lastBatch !== undefined) status.total = Number(fields.planned ?? 0);
      else if (fields.counted !== undefined) status.total = Number(fields.counted);
      if (fields.error) status.error = fields.error;
      return status;
    },

    /** The members of batch k: those read now if it is its first run, else the first run's. */
    async plan(id: string, k: number, members: string[], last: boolean): Promise<string[]> {
      const { status, batchPrefix } = keys(id);
      const stored = await run(PLAN, 2, status, batchPrefix + k, JSON.stringify(members), members.length, last ? '1' : '0', k, Date.now(), WORKING_KEYS_TTL);
      return JSON.parse(String(stored)) as string[];
    },

    /** Batch k's members if it was planned, else undefined. */
    async planned(id: string, k: number): Promise<string[] | undefined> {
      const stored = await client.get(keys(id).batchPrefix + k);
      return stored === null ? undefined : (JSON.parse(stored) as string[]);
    },

    /** Which of `members` have an outcome already. */
    async reached(id: string, members: string[]): Promise<Set<string>> {
      if (members.length === 0) return new Set();
      const outcomes = await client.hmget(keys(id).outcomes, ...members);
      return new Set(members.filter((_, i) => outcomes[i] !== null));
    },

    /** Counts one subscriber's outcome (with its push service and failure cause, when known), once; resolves when Redis has it. */
    count(id: string, subscriptionId: string, outcome: Outcome, facts?: OutcomeFacts): Promise<void> {
      let entry = pending.get(id);
      if (!entry) {
        let settle!: { resolve(): void; reject(error: unknown): void };
        const written = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
        pending.set(id, (entry = { pairs: [], written, ...settle }));
      }
      const failure = facts?.failure;
      entry.pairs.push(subscriptionId, outcome, facts?.service ?? '', failure ? `${failure.cause} ${failure.host}` : '', failure?.sample ?? '');
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
      return entry.written;
    },

    /** Marks batch k done; true when that finished the send. */
    async complete(id: string, k: number): Promise<boolean> {
      const { status, outcomes, done, batchPrefix } = keys(id);
      const finished = await run(COMPLETE, 3, status, done, outcomes, k, Date.now(), batchPrefix, WORKING_KEYS_TTL, STATUS_TTL);
      return finished === 1;
    },

    /** Adds subscriptions a run of a batch pruned (each is deleted once, by one run, so none is added twice). */
    async addPruned(id: string, pruned: number): Promise<void> {
      if (pruned > 0) await client.hincrby(keys(id).status, 'pruned', pruned);
    },

    /**
     * The send as the send log takes it: absolute counts, per push service and per
     * failure, state and times, read in one call. Whoever writes it, whenever, the store
     * keeps the larger of each count, so it can only bring the row up to date.
     */
    async progress(id: string): Promise<SendUpdate> {
      const fields = await client.hgetall(keys(id).status);
      const children = childrenOf(fields.record);
      if (children) return slicedProgress(fields, children);
      const number = (name: string) => Number(fields[name] ?? 0);
      const update: SendUpdate = {
        // Everyone the send has dealt with: a cancelled send's counts add up to it too.
        counts: {
          targeted: number('sent') + number('gone') + number('failed') + number('capped'),
          sent: number('sent'),
          gone: number('gone'),
          failed: number('failed'),
          pruned: number('pruned'),
          capped: number('capped'),
          // A slice that waited for its subscribers' local time or the end of their quiet hours.
          deferred: fields.deferred === '1' ? number('sent') + number('gone') + number('failed') : 0,
        },
        services: {},
        failures: [],
      };
      for (const [field, value] of Object.entries(fields)) {
        const service = /^service:([^:]*):(sent|gone|failed)$/.exec(field);
        if (service) (update.services![service[1]!] ??= {})[service[2] as 'sent' | 'gone' | 'failed'] = Number(value);
        const failure = /^failure:(\S+) (\S*)$/.exec(field);
        if (failure) {
          const row: SendFailure = { cause: failure[1]!, host: failure[2]!, count: Number(value) };
          const sample = fields[`sample:${failure[1]} ${failure[2]}`];
          if (sample) row.sample = sample;
          update.failures!.push(row);
        }
      }
      const state = fields.state as SendState | undefined;
      if (state) update.state = state;
      if (fields.startedAt) update.startedAt = Number(fields.startedAt);
      if (fields.finishedAt && (state === 'done' || state === 'failed' || state === 'cancelled')) update.finishedAt = Number(fields.finishedAt);
      if (fields.error) update.error = fields.error;
      return update;
    },

    /** Ends a send as failed, saying why (a send that had ended, done or cancelled, keeps its ending). */
    async fail(id: string, reason: string): Promise<void> {
      const { status, outcomes, done, batchPrefix } = keys(id);
      await run(END, 3, status, outcomes, done, 'failed', Date.now(), reason.slice(0, 500), batchPrefix, WORKING_KEYS_TTL, STATUS_TTL);
    },
  };
  return ledger;
}

export type SendLedger = ReturnType<typeof createSendLedger>;
