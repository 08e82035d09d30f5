// The data of the insight benchmark (issue 19): 100,000 subscribers, 1,000 messages and
// 5,000,000 events by default, loaded straight into the tables a store made (generated in
// SQL on PostgreSQL, one transaction of prepared statements on SQLite): raw events, the
// once-per-(message, subscription, type) table, and the rollups as recordEvents would have
// left them. bench/insight.mjs and bench/dashboard.mjs load it the same way.
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The sizes, from the environment (BENCH_INSIGHT_SUBSCRIBERS, _MESSAGES, _EVENTS), and the clock they are laid out from. */
export function insightSizes(env = process.env, now = Date.now()) {
  const subscribers = Number(env.BENCH_INSIGHT_SUBSCRIBERS ?? 100_000);
  const messages = Number(env.BENCH_INSIGHT_MESSAGES ?? 1000);
  const events = Number(env.BENCH_INSIGHT_EVENTS ?? 5_000_000);
  // Each message reaches `perMessage` subscribers, a window of the table that moves with k.
  return { subscribers, messages, events, now, start: now - 30 * DAY, perMessage: Math.max(1, Math.floor(events / messages / 2.5)), custom: Boolean(env.BENCH_INSIGHT_SUBSCRIBERS || env.BENCH_INSIGHT_MESSAGES || env.BENCH_INSIGHT_EVENTS) };
}

// Who is where: 60% FCM (Chrome, Edge, Opera, Samsung), 20% Mozilla, 10% Apple, 10% WNS.
const kinds = [
  ['fcm.googleapis.com', 'fcm', 'chrome'],
  ['fcm.googleapis.com', 'fcm', 'chrome'],
  ['fcm.googleapis.com', 'fcm', 'chrome'],
  ['fcm.googleapis.com', 'fcm', 'edge'],
  ['fcm.googleapis.com', 'fcm', 'opera'],
  ['fcm.googleapis.com', 'fcm', 'samsung'],
  ['updates.push.services.mozilla.com', 'mozilla', 'firefox'],
  ['updates.push.services.mozilla.com', 'mozilla', 'firefox'],
  ['web.push.apple.com', 'apple', 'safari'],
  ['wns2-par02p.notify.windows.com', 'windows', 'edge'],
];
export const subscriptionId = (i) => `s${String(i).padStart(8, '0')}`;
export const messageId = (k) => `m${String(k).padStart(6, '0')}`;
// Of those: all delivered, 95% shown, 30% clicked, 20% closed, 5% a worker failure: 2.5 events each.
const eventTypes = [
  ['delivered', 1],
  ['shown', 0.95],
  ['clicked', 0.3],
  ['closed', 0.2],
  ['failed', 0.05],
];

/** The send-log row of message k. */
export function sendRecord(k, { subscribers: SUBSCRIBERS, messages: MESSAGES, start }) {
  const createdAt = start + Math.floor((k * 30 * DAY) / MESSAGES);
  const record = {
    id: messageId(k),
    title: `Message ${k}`,
    url: `/articles/${k}`,
    envelope: { v: 1, id: messageId(k), notification: { title: `Message ${k}`, url: `/articles/${k}` } },
    audience: k % 3 ? { attributes: { team: `t${k % 100}` } } : null,
    options: { ttl: 86400 },
    by: k % 2 ? 'ann@example.com' : 'jobs',
    via: k % 4 ? 'send' : 'queue',
    state: 'done',
    createdAt,
    startedAt: createdAt,
    finishedAt: createdAt + 60_000,
    targeted: SUBSCRIBERS,
    sent: SUBSCRIBERS - 300,
    gone: 200,
    failed: 100,
    pruned: 3,
    capped: 0,
    deferred: 0,
    failures: [
      { cause: 'http-5xx', host: 'fcm.googleapis.com', count: 60, sample: '503 Service Unavailable' },
      { cause: 'timeout', host: 'updates.push.services.mozilla.com', count: 40, sample: 'timeout' },
    ],
    services: {
      fcm: { sent: Math.floor((SUBSCRIBERS - 300) * 0.6), gone: 120, failed: 60 },
      mozilla: { sent: Math.floor((SUBSCRIBERS - 300) * 0.2), gone: 40, failed: 40 },
      apple: { sent: Math.floor((SUBSCRIBERS - 300) * 0.1), gone: 20, failed: 0 },
      windows: { sent: Math.floor((SUBSCRIBERS - 300) * 0.1), gone: 20, failed: 0 },
    },
  };
  return record;
}

/**
 * Loads the data into the SQLite file a sqliteStore made (and closed). Resolves to
 * how long it took and how many events went in.
 */
export async function loadSqlite(Database, file, sizes) {
  const { subscribers: SUBSCRIBERS, messages: MESSAGES, events: EVENTS, start, perMessage } = sizes;
  const loading = performance.now();
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const insertSubscription = db.prepare(
    "INSERT INTO subscriptions (id, endpoint, p256dh, auth, attributes, created_at, updated_at, service, browser) VALUES (?, ?, 'p', 'a', ?, ?, ?, ?, ?)",
  );
  const insertAttribute = db.prepare('INSERT INTO subscription_attributes (subscription_id, key, value) VALUES (?, ?, ?)');
  const insertSend = db.prepare('INSERT INTO sends (id, created_at, state, record) VALUES (?, ?, ?, ?)');
  const insertEvent = db.prepare('INSERT INTO events (id, type, message_id, at, body, subscription_id) VALUES (?, ?, ?, ?, ?, ?)');
  const insertCounted = db.prepare('INSERT INTO counted_events (message_id, subscription_id, type, at) VALUES (?, ?, ?, ?)');
  db.transaction(() => {
    for (let i = 0; i < SUBSCRIBERS; i++) {
      const [host, service, browser] = kinds[i % kinds.length];
      const attributes = { user: `u${i}`, team: `t${i % 100}` };
      const created = start + Math.floor((i * 30 * DAY) / SUBSCRIBERS);
      insertSubscription.run(subscriptionId(i), `https://${host}/send/${i}`, JSON.stringify(attributes), created, created, service, browser);
      for (const [key, value] of Object.entries(attributes)) insertAttribute.run(subscriptionId(i), key, JSON.stringify(value));
    }
    for (let k = 0; k < MESSAGES; k++) {
      const record = sendRecord(k, sizes);
      insertSend.run(record.id, record.createdAt, record.state, JSON.stringify(record));
    }
  })();
  // The events, a message at a time (one transaction each keeps the WAL small).
  let events = 0;
  const eventsOf = db.transaction((k) => {
    const id = messageId(k);
    const at0 = start + Math.floor((k * 30 * DAY) / MESSAGES) + 60_000;
    for (let j = 0; j < perMessage && events < EVENTS; j++) {
      const subscription = subscriptionId((k * 97 + j) % SUBSCRIBERS);
      for (const [type, share] of eventTypes) {
        if (j >= perMessage * share) continue;
        const at = at0 + j * 50;
        const eventId = `e${k}.${j}.${type}`;
        insertEvent.run(eventId, type, id, at, `{"id":"${eventId}","type":"${type}","messageId":"${id}","at":${at}}`, subscription);
        insertCounted.run(id, subscription, type, at);
        events++;
      }
    }
  });
  for (let k = 0; k < MESSAGES; k++) eventsOf(k);
  // The rollups, as recordEvents keeps them while events arrive.
  db.exec(`
    INSERT INTO message_events (message_id, verified, service, browser, delivered, shown, clicked, closed, worker_failed)
    SELECT e.message_id, 1, s.service, s.browser,
      sum(e.type = 'delivered'), sum(e.type = 'shown'), sum(e.type = 'clicked'), sum(e.type = 'closed'), sum(e.type = 'failed')
    FROM events e JOIN subscriptions s ON s.id = e.subscription_id GROUP BY 1, 3, 4;
    INSERT INTO hourly_stats (hour, delivered, shown, clicked, closed, worker_failed)
    SELECT (at / ${HOUR}) * ${HOUR}, sum(type = 'delivered'), sum(type = 'shown'), sum(type = 'clicked'), sum(type = 'closed'), sum(type = 'failed')
    FROM events GROUP BY 1;
    INSERT INTO hourly_stats (hour, messages, sent) SELECT (created_at / ${HOUR}) * ${HOUR}, count(*), sum(json_extract(record, '$.sent')) FROM sends GROUP BY 1
      ON CONFLICT(hour) DO UPDATE SET messages = messages + excluded.messages, sent = sent + excluded.sent;
    INSERT INTO hourly_stats (hour, subscribed) SELECT (created_at / ${HOUR}) * ${HOUR}, count(*) FROM subscriptions GROUP BY 1
      ON CONFLICT(hour) DO UPDATE SET subscribed = subscribed + excluded.subscribed;
    ANALYZE;
  `);
  db.close();
  return { seconds: (performance.now() - loading) / 1000, events };
}

/**
 * Loads the data into the tables postgresStore made in `schema`, through `client` (pg),
 * then VACUUM ANALYZE as autovacuum would have by now. Resolves as loadSqlite.
 */
export async function loadPostgres(client, schema, sizes) {
  const { subscribers: SUBSCRIBERS, messages: MESSAGES, events: EVENTS, start, perMessage } = sizes;
  const loading = performance.now();
  const t = (table) => `"${schema}".${table}`;
  await client.query('SET synchronous_commit = off');
  await client.query(
    `INSERT INTO ${t('subscriptions')} (id, endpoint, p256dh, auth, attributes, created_at, updated_at, service, browser)
     SELECT 's' || lpad(i::text, 8, '0'), 'https://' || k.host || '/send/' || i, 'p', 'a',
       jsonb_build_object('user', 'u' || i, 'team', 't' || (i % 100)), $2::bigint + (i::bigint * 30 * ${DAY}) / $1, $2::bigint + (i::bigint * 30 * ${DAY}) / $1, k.service, k.browser
     FROM generate_series(0, $1 - 1) AS i
     JOIN (SELECT * FROM unnest($3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS u(host, service, browser, n)) AS k ON k.n = (i % ${kinds.length}) + 1`,
    [SUBSCRIBERS, start, kinds.map((k) => k[0]), kinds.map((k) => k[1]), kinds.map((k) => k[2])],
  );
  const records = Array.from({ length: MESSAGES }, (_, k) => sendRecord(k, sizes));
  await client.query(`INSERT INTO ${t('sends')} (id, created_at, state, record) SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::jsonb[])`, [
    records.map((r) => r.id),
    records.map((r) => r.createdAt),
    records.map((r) => r.state),
    records.map((r) => JSON.stringify(r)),
  ]);
  // Events and their once-per-kind rows, generated in SQL: a message, its window of
  // subscribers, and for each the kinds its share says, up to EVENTS.
  const generated = `
    SELECT 'm' || lpad(k::text, 6, '0') AS message_id, 's' || lpad(((k * 97 + j) % $3)::text, 8, '0') AS subscription_id,
      ty.type, $4::bigint + (k::bigint * 30 * ${DAY}) / $1 + 60000 + j * 50 AS at, 'e' || k || '.' || j || '.' || ty.type AS id
    FROM generate_series(0, $1 - 1) AS k, generate_series(0, $2 - 1) AS j,
      (VALUES ('delivered', 1.0), ('shown', 0.95), ('clicked', 0.3), ('closed', 0.2), ('failed', 0.05)) AS ty(type, share)
    WHERE j < $2 * ty.share`;
  await client.query(
    `INSERT INTO ${t('events')} (id, type, message_id, at, body, subscription_id)
     SELECT id, type, message_id, at, jsonb_build_object('id', id, 'type', type, 'messageId', message_id, 'at', at), subscription_id
     FROM (${generated}) g LIMIT $5`,
    [MESSAGES, perMessage, SUBSCRIBERS, start, EVENTS],
  );
  await client.query(`INSERT INTO ${t('counted_events')} (message_id, subscription_id, type, at) SELECT message_id, subscription_id, type, at FROM ${t('events')}`);
  await client.query(
    `INSERT INTO ${t('message_events')} (message_id, verified, service, browser, delivered, shown, clicked, closed, worker_failed)
     SELECT e.message_id, true, s.service, s.browser,
       count(*) FILTER (WHERE e.type = 'delivered'), count(*) FILTER (WHERE e.type = 'shown'), count(*) FILTER (WHERE e.type = 'clicked'),
       count(*) FILTER (WHERE e.type = 'closed'), count(*) FILTER (WHERE e.type = 'failed')
     FROM ${t('events')} e JOIN ${t('subscriptions')} s ON s.id = e.subscription_id GROUP BY 1, 3, 4`,
  );
  await client.query(
    `INSERT INTO ${t('hourly_stats')} (hour, delivered, shown, clicked, closed, worker_failed)
     SELECT (at / ${HOUR}) * ${HOUR}, count(*) FILTER (WHERE type = 'delivered'), count(*) FILTER (WHERE type = 'shown'),
       count(*) FILTER (WHERE type = 'clicked'), count(*) FILTER (WHERE type = 'closed'), count(*) FILTER (WHERE type = 'failed')
     FROM ${t('events')} GROUP BY 1`,
  );
  await client.query(
    `INSERT INTO ${t('hourly_stats')} AS h (hour, messages, sent) SELECT (created_at / ${HOUR}) * ${HOUR}, count(*), sum((record->>'sent')::bigint) FROM ${t('sends')} GROUP BY 1
     ON CONFLICT (hour) DO UPDATE SET messages = h.messages + excluded.messages, sent = h.sent + excluded.sent`,
  );
  await client.query(
    `INSERT INTO ${t('hourly_stats')} AS h (hour, subscribed) SELECT (created_at / ${HOUR}) * ${HOUR}, count(*) FROM ${t('subscriptions')} GROUP BY 1
     ON CONFLICT (hour) DO UPDATE SET subscribed = h.subscribed + excluded.subscribed`,
  );
  // What autovacuum would have done by now on a live database.
  for (const table of ['subscriptions', 'events', 'counted_events', 'message_events', 'hourly_stats', 'sends']) await client.query(`VACUUM ANALYZE ${t(table)}`);
  const { rows } = await client.query(`SELECT count(*) AS n FROM ${t('events')}`);
  return { seconds: (performance.now() - loading) / 1000, events: Number(rows[0].n) };
}
