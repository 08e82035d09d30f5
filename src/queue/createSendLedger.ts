import { createHash } from 'node:crypto';
import type { PreparedMessage } from '../server/send/createSender.js';
import type { SubscriptionQuery } from '../server/stores/SubscriptionStore.js';
import type { OutcomeFacts } from '../server/stats/createSendTally.js';
import type { SendUpdate } from '../server/stores/insightRows.js';
import type { SendFailure } from '../server/stats/statsTypes.js';
import { TidingsError } from '../shared/TidingsError.js';
import type { SendState, SendStatus } from './queueTypes.js';

/** What a queued send is, kept in Redis beside its jobs (the jobs carry only ids and cursors). */
export interface SendRecord {
  message: PreparedMessage;
  query: SubscriptionQuery;
  batchSize: number;
}

/** What became of one subscriber, as counted. */
export type Outcome = 'sent' | 'gone' | 'failed';

/** The few Redis commands the ledger needs; BullMQ's own ioredis client has them. */
export interface LedgerClient {
  hsetnx(key: string, field: string, value: string): Promise<number>;
  hset(key: string, ...fieldsAndValues: string[]): Promise<number>;
  hgetall(key: string): Promise<Record<string, string>>;
  hget(key: string, field: string): Promise<string | null>;
  hmget(key: string, ...fields: string[]): Promise<(string | null)[]>;
  hincrby(key: string, field: string, increment: number): Promise<number>;
  get(key: string): Promise<string | null>;
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
if ARGV[3] == '1' then redis.call('HSET', KEYS[1], 'lastBatch', ARGV[4]) end
if redis.call('HGET', KEYS[1], 'state') == 'queued' then redis.call('HSET', KEYS[1], 'state', 'running', 'startedAt', ARGV[5]) end
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
if last and state ~= 'done' and state ~= 'failed' and redis.call('SCARD', KEYS[2]) == tonumber(last) + 1 then
  redis.call('HSET', KEYS[1], 'state', 'done', 'finishedAt', ARGV[2])
  for i = 0, tonumber(last) do redis.call('EXPIRE', ARGV[3] .. i, ARGV[4]) end
  redis.call('EXPIRE', KEYS[2], ARGV[4])
  redis.call('EXPIRE', KEYS[3], ARGV[4])
  redis.call('EXPIRE', KEYS[1], ARGV[5])
  return 1
end
return 0`;

/** How long the members and outcomes of a finished send are kept (s): long enough for a late rerun. */
const WORKING_KEYS_TTL = 3600;
/** How long a finished send's status can be read (s). */
const STATUS_TTL = 7 * 86_400;

/**
 * A send's record, progress and exact counts in Redis, under `tidings:{name}:send:{id}`.
 * Outcomes are kept per subscriber (`…:outcomes`), so a batch taken again after a crash
 * skips whom it already reached and counts nobody twice.
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
  const pending = new Map<string, { pairs: string[]; waiting: { resolve(): void; reject(error: unknown): void }[] }>();
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    const batches = [...pending];
    pending.clear();
    for (const [id, { pairs, waiting }] of batches) {
      const { status, outcomes } = keys(id);
      run(RECORD, 2, status, outcomes, ...pairs).then(
        () => waiting.forEach((w) => w.resolve()),
        (error: unknown) => waiting.forEach((w) => w.reject(error)),
      );
    }
  };

  const base = (id: string) => `tidings:${name}:send:${id}`;
  const keys = (id: string) => ({
    status: base(id),
    outcomes: `${base(id)}:outcomes`,
    done: `${base(id)}:done`,
    batchPrefix: `${base(id)}:batch:`,
  });

  return {
    /** Records a new send; false when one with this id exists already (its id was reused). */
    async create(id: string, record: SendRecord): Promise<boolean> {
      const { status } = keys(id);
      const created = await client.hsetnx(status, 'record', JSON.stringify(record));
      if (created === 1) await client.hset(status, 'state', 'queued', 'createdAt', String(Date.now()));
      return created === 1;
    },

    async record(id: string): Promise<SendRecord | undefined> {
      const text = await client.hget(keys(id).status, 'record');
      return text === null ? undefined : (JSON.parse(text) as SendRecord);
    },

    async status(id: string): Promise<SendStatus> {
      const fields = await client.hgetall(keys(id).status);
      if (!fields.record) throw new TidingsError('queue-failed', { reason: `no send with id ${id}` });
      const status: SendStatus = {
        id,
        state: (fields.state ?? 'queued') as SendState,
        sent: Number(fields.sent ?? 0),
        gone: Number(fields.gone ?? 0),
        failed: Number(fields.failed ?? 0),
      };
      // The audience is known once its last batch has been read from the store.
      if (fields.lastBatch !== undefined) status.total = Number(fields.planned ?? 0);
      if (fields.error) status.error = fields.error;
      return status;
    },

    /** The members of batch k: those read now if it is its first run, else the first run's. */
    async plan(id: string, k: number, members: string[], last: boolean): Promise<string[]> {
      const { status, batchPrefix } = keys(id);
      const stored = await run(PLAN, 2, status, batchPrefix + k, JSON.stringify(members), members.length, last ? '1' : '0', k, Date.now());
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
      return new Promise((resolve, reject) => {
        let entry = pending.get(id);
        if (!entry) pending.set(id, (entry = { pairs: [], waiting: [] }));
        const failure = facts?.failure;
        entry.pairs.push(subscriptionId, outcome, facts?.service ?? '', failure ? `${failure.cause} ${failure.host}` : '', failure?.sample ?? '');
        entry.waiting.push({ resolve, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
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
      const number = (name: string) => Number(fields[name] ?? 0);
      const update: SendUpdate = {
        counts: { targeted: number('planned'), sent: number('sent'), gone: number('gone'), failed: number('failed'), pruned: number('pruned') },
        services: {},
        failures: [],
      };
      for (const [field, value] of Object.entries(fields)) {
        const service = /^service:([^:]*):(sent|gone|failed)$/.exec(field);
        if (service) (update.services![service[1]!] ??= {})[service[2] as Outcome] = Number(value);
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
      if (fields.finishedAt && (state === 'done' || state === 'failed')) update.finishedAt = Number(fields.finishedAt);
      if (fields.error) update.error = fields.error;
      return update;
    },

    async fail(id: string, reason: string): Promise<void> {
      const { status } = keys(id);
      await client.hset(status, 'state', 'failed', 'error', reason.slice(0, 500), 'finishedAt', String(Date.now()));
    },
  };
}

export type SendLedger = ReturnType<typeof createSendLedger>;
