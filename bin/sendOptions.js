// What `tidings send` reads from its flags, for both ways of sending: at once from this
// process (SQLite) or through the queue (--redis). One parser, so both accept the same.

/** The flags that make the message and pick its audience. */
export const messageFlags = {
  title: { type: 'string' },
  body: { type: 'string' },
  url: { type: 'string' },
  to: { type: 'string' },
  attr: { type: 'string', multiple: true },
  data: { type: 'string' },
  ttl: { type: 'string' },
  urgency: { type: 'string' },
  topic: { type: 'string' },
  env: { type: 'string' },
};

/** The envelope and send() options the flags describe; UsageError for a bad one. */
export function messageFromFlags(values, UsageError) {
  if (!values.title) throw new UsageError('send needs --title TEXT');
  if (values.to && values.attr) throw new UsageError('use --to or --attr, not both');
  const notification = { title: values.title };
  if (values.body !== undefined) notification.body = values.body;
  if (values.url !== undefined) notification.url = values.url;
  const envelope = { v: 1, notification };
  if (values.data !== undefined) {
    try {
      envelope.data = JSON.parse(values.data);
    } catch {
      throw new UsageError('--data must be JSON');
    }
  }
  const sendOptions = {};
  if (values.to) sendOptions.to = values.to.split(',').filter(Boolean);
  if (values.attr) {
    const attributes = {};
    for (const pair of values.attr) {
      const eq = pair.indexOf('=');
      if (eq < 1) throw new UsageError(`--attr ${pair} is not KEY=VALUE`);
      const raw = pair.slice(eq + 1);
      attributes[pair.slice(0, eq)] = raw === 'true' ? true : raw === 'false' ? false : /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
    }
    sendOptions.to = { attributes };
  }
  if (values.ttl !== undefined) {
    if (!/^\d+$/.test(values.ttl)) throw new UsageError('--ttl must be whole seconds');
    sendOptions.ttl = Number(values.ttl);
  }
  if (values.urgency !== undefined) sendOptions.urgency = values.urgency;
  if (values.topic !== undefined) sendOptions.topic = values.topic;
  return { envelope, sendOptions };
}

/** VAPID keys from the environment, or from `--env FILE` (read with `readEnvFile`). */
export function vapidFromEnv(envFile, readEnvFile, UsageError) {
  const env = { ...process.env, ...(envFile ? readEnvFile(envFile) : {}) };
  const vapid = { publicKey: env.VAPID_PUBLIC_KEY, privateKey: env.VAPID_PRIVATE_KEY, subject: env.VAPID_SUBJECT };
  if (!vapid.publicKey || !vapid.privateKey || !vapid.subject) {
    throw new UsageError('VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY and VAPID_SUBJECT must be set (environment or --env)');
  }
  return vapid;
}
