/** The tables of `sqliteStore`, made on first use. Times are ms since the epoch. */
export const sqliteSchema = `
  CREATE TABLE IF NOT EXISTS subscriptions (
    id TEXT PRIMARY KEY,
    endpoint TEXT NOT NULL UNIQUE,
    p256dh TEXT NOT NULL,
    auth TEXT NOT NULL,
    expiration_time INTEGER,
    seal_key TEXT,
    attributes TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    failing_since INTEGER,
    identity_keys TEXT,
    -- pushServiceOf(endpoint) and the browser family: counting an event needs no parsing.
    service TEXT,
    browser TEXT,
    last_sent_at INTEGER,
    -- Frequency caps: the newest pushes of capped sends, [[at, tag], ...] (see capSends).
    recent_pushes TEXT
  );
  -- One row per attribute, so a send to {attributes: {...}} is an index lookup, not a scan.
  CREATE TABLE IF NOT EXISTS subscription_attributes (
    subscription_id TEXT NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (subscription_id, key)
  );
  CREATE INDEX IF NOT EXISTS subscription_attributes_by_value ON subscription_attributes(key, value);
  CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    message_id TEXT,
    at INTEGER NOT NULL,
    body TEXT NOT NULL,
    -- The verified subscription that signed the request; NULL: unverified.
    subscription_id TEXT
  );
  CREATE INDEX IF NOT EXISTS events_by_message ON events(message_id);
  CREATE INDEX IF NOT EXISTS events_by_at ON events(at);
  CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS messages_by_expiry ON messages(expires_at);

  -- Insight (docs/insight.md). The send log: one row per send, the record as JSON beside the
  -- columns it is looked up by (issue 21's scheduler leases rows by state and scheduled_at).
  CREATE TABLE IF NOT EXISTS sends (
    id TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    state TEXT NOT NULL,
    scheduled_at INTEGER,
    lease_owner TEXT,
    lease_until INTEGER,
    record TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS sends_by_created ON sends(created_at, id);
  CREATE INDEX IF NOT EXISTS sends_by_state ON sends(state, scheduled_at);
  -- Each verified (message, subscription, type) counted once; pruned with the raw events.
  CREATE TABLE IF NOT EXISTS counted_events (
    message_id TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    type TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (message_id, subscription_id, type)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS counted_events_by_at ON counted_events(at);
  -- Rollups, kept in the transaction that changes what they count; they outlive raw events.
  CREATE TABLE IF NOT EXISTS message_events (
    message_id TEXT NOT NULL,
    verified INTEGER NOT NULL,
    service TEXT NOT NULL,
    browser TEXT NOT NULL,
    delivered INTEGER NOT NULL DEFAULT 0,
    shown INTEGER NOT NULL DEFAULT 0,
    clicked INTEGER NOT NULL DEFAULT 0,
    closed INTEGER NOT NULL DEFAULT 0,
    worker_failed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (message_id, verified, service, browser)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS hourly_stats (
    hour INTEGER PRIMARY KEY,
    messages INTEGER NOT NULL DEFAULT 0,
    sent INTEGER NOT NULL DEFAULT 0,
    delivered INTEGER NOT NULL DEFAULT 0,
    shown INTEGER NOT NULL DEFAULT 0,
    clicked INTEGER NOT NULL DEFAULT 0,
    closed INTEGER NOT NULL DEFAULT 0,
    worker_failed INTEGER NOT NULL DEFAULT 0,
    subscribed INTEGER NOT NULL DEFAULT 0,
    unsubscribed INTEGER NOT NULL DEFAULT 0
  );
`;

/** Indexes on columns older files get by ALTER TABLE, made once the columns exist. */
export const sqliteLateIndexes = `
  CREATE INDEX IF NOT EXISTS subscriptions_by_service ON subscriptions(service, browser);
`;
