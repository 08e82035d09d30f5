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
    CREATE TABLE IF NOT EXISTS ${s}.messages (
      id TEXT PRIMARY KEY,
      body TEXT NOT NULL,
      expires_at BIGINT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS messages_by_expiry ON ${s}.messages (expires_at);
  `;
}
