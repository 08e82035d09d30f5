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
    body TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS events_by_message ON events(message_id);
  CREATE INDEX IF NOT EXISTS events_by_at ON events(at);
  CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS messages_by_expiry ON messages(expires_at);
`;
