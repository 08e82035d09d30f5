/**
 * The tables of `postgresStore`, in their own schema. Ids are `COLLATE "C"`: send()
 * pages by id in plain string order (SubscriptionQuery), which a database's default
 * locale collation does not follow. Times are ms since the epoch, as BIGINT.
 */
export function postgresSchema(schema: string): string {
  const s = `"${schema}"`;
  return `
    CREATE SCHEMA IF NOT EXISTS ${s};
    CREATE TABLE IF NOT EXISTS ${s}.subscriptions (
      id TEXT COLLATE "C" PRIMARY KEY,
      endpoint TEXT NOT NULL UNIQUE,
      p256dh TEXT NOT NULL,
      auth TEXT NOT NULL,
      expiration_time BIGINT,
      seal_key JSONB,
      attributes JSONB NOT NULL DEFAULT '{}',
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL,
      failing_since BIGINT,
      identity_keys JSONB
    );
    -- Tables made before these columns existed.
    ALTER TABLE ${s}.subscriptions ADD COLUMN IF NOT EXISTS identity_keys JSONB;
    -- Frequency caps: the newest pushes of capped sends, [[at, tag], ...] (see capSends).
    ALTER TABLE ${s}.subscriptions ADD COLUMN IF NOT EXISTS recent_pushes JSONB;
    -- Insight: pushServiceOf(endpoint) and the browser family, so counting an event needs no
    -- parsing (rows from before are classified once, by postgresStore, on first use).
    ALTER TABLE ${s}.subscriptions ADD COLUMN IF NOT EXISTS service TEXT;
    ALTER TABLE ${s}.subscriptions ADD COLUMN IF NOT EXISTS browser TEXT;
    ALTER TABLE ${s}.subscriptions ADD COLUMN IF NOT EXISTS last_sent_at BIGINT;
    CREATE INDEX IF NOT EXISTS subscriptions_by_service ON ${s}.subscriptions (service, browser);
    -- jsonb_path_ops serves attributes @> '{"k": v}': the equality and any-of tests of audiences.
    CREATE INDEX IF NOT EXISTS subscriptions_by_attributes ON ${s}.subscriptions USING GIN (attributes jsonb_path_ops);
    CREATE TABLE IF NOT EXISTS ${s}.events (
      seq BIGSERIAL,
      id TEXT PRIMARY KEY,
      type TEXT NOT NULL,
      message_id TEXT,
      at BIGINT NOT NULL,
      body JSONB NOT NULL
    );
    CREATE INDEX IF NOT EXISTS events_by_seq ON ${s}.events (seq);
    CREATE INDEX IF NOT EXISTS events_by_message ON ${s}.events (message_id, seq);
    CREATE INDEX IF NOT EXISTS events_by_at ON ${s}.events (at);
    -- The verified subscription that signed the request; NULL: unverified.
    ALTER TABLE ${s}.events ADD COLUMN IF NOT EXISTS subscription_id TEXT;
    CREATE TABLE IF NOT EXISTS ${s}.messages (
      id TEXT PRIMARY KEY,
      body TEXT NOT NULL,
      expires_at BIGINT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS messages_by_expiry ON ${s}.messages (expires_at);
    -- Insight (docs/insight.md). The send log: one row per send, the record as JSONB beside
    -- the columns it is looked up by (issue 21's scheduler leases rows by state and scheduled_at).
    CREATE TABLE IF NOT EXISTS ${s}.sends (
      id TEXT COLLATE "C" PRIMARY KEY,
      created_at BIGINT NOT NULL,
      state TEXT NOT NULL,
      scheduled_at BIGINT,
      lease_owner TEXT,
      lease_until BIGINT,
      record JSONB NOT NULL
    );
    CREATE INDEX IF NOT EXISTS sends_by_created ON ${s}.sends (created_at, id);
    CREATE INDEX IF NOT EXISTS sends_by_state ON ${s}.sends (state, scheduled_at);
    -- Each verified (message, subscription, type) counted once; pruned with the raw events.
    CREATE TABLE IF NOT EXISTS ${s}.counted_events (
      message_id TEXT NOT NULL,
      subscription_id TEXT NOT NULL,
      type TEXT NOT NULL,
      at BIGINT NOT NULL,
      PRIMARY KEY (message_id, subscription_id, type)
    );
    CREATE INDEX IF NOT EXISTS counted_events_by_at ON ${s}.counted_events (at);
    -- Rollups, kept in the transaction that changes what they count; they outlive raw events.
    CREATE TABLE IF NOT EXISTS ${s}.message_events (
      message_id TEXT NOT NULL,
      verified BOOLEAN NOT NULL,
      service TEXT NOT NULL,
      browser TEXT NOT NULL,
      delivered BIGINT NOT NULL DEFAULT 0,
      shown BIGINT NOT NULL DEFAULT 0,
      clicked BIGINT NOT NULL DEFAULT 0,
      closed BIGINT NOT NULL DEFAULT 0,
      worker_failed BIGINT NOT NULL DEFAULT 0,
      PRIMARY KEY (message_id, verified, service, browser)
    );
    CREATE TABLE IF NOT EXISTS ${s}.hourly_stats (
      hour BIGINT PRIMARY KEY,
      messages BIGINT NOT NULL DEFAULT 0,
      sent BIGINT NOT NULL DEFAULT 0,
      delivered BIGINT NOT NULL DEFAULT 0,
      shown BIGINT NOT NULL DEFAULT 0,
      clicked BIGINT NOT NULL DEFAULT 0,
      closed BIGINT NOT NULL DEFAULT 0,
      worker_failed BIGINT NOT NULL DEFAULT 0,
      subscribed BIGINT NOT NULL DEFAULT 0,
      unsubscribed BIGINT NOT NULL DEFAULT 0
    );
    -- Sends kept for their time (issue 21), beside their send-log rows: when each is due,
    -- its plan, and the lease of the scheduler that holds it.
    CREATE TABLE IF NOT EXISTS ${s}.scheduled_sends (
      id TEXT PRIMARY KEY,
      run_at BIGINT NOT NULL,
      plan JSONB NOT NULL,
      lease_owner TEXT,
      lease_until BIGINT NOT NULL DEFAULT 0
    );
    CREATE INDEX IF NOT EXISTS scheduled_sends_due ON ${s}.scheduled_sends (run_at);
  `;
}
