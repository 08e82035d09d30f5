// What `tidings send` reads from its flags, for both ways of sending: at once from this
// process (SQLite) or through the queue (--redis). One parser, so both accept the same.
import type { Envelope, SendOptions, VapidDetails } from '../server/index.js';
import { readEnvFile } from './envFile.js';
import type { OptionSpec } from './options.js';
import { UsageError } from './UsageError.js';

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
} as const satisfies OptionSpec;

/** What parseArgs makes of messageFlags. */
export interface MessageValues {
  title?: string | undefined;
  body?: string | undefined;
  url?: string | undefined;
  to?: string | undefined;
  attr?: string[] | undefined;
  data?: string | undefined;
  ttl?: string | undefined;
  urgency?: string | undefined;
  topic?: string | undefined;
}

/** The envelope and send() options the flags describe; UsageError for a bad one. */
export function messageFromFlags(values: MessageValues): { envelope: Envelope; sendOptions: SendOptions } {
  if (!values.title) throw new UsageError('send needs --title TEXT');
  if (values.to && values.attr) throw new UsageError('use --to or --attr, not both');
  const notification: NonNullable<Envelope['notification']> = { title: values.title };
  if (values.body !== undefined) notification.body = values.body;
  if (values.url !== undefined) notification.url = values.url;
  const envelope: Envelope = { v: 1, notification };
  if (values.data !== undefined) {
    try {
      envelope.data = JSON.parse(values.data);
    } catch {
      throw new UsageError('--data must be JSON');
    }
  }
  const sendOptions: SendOptions = {};
  if (values.to) sendOptions.to = values.to.split(',').filter(Boolean);
  if (values.attr) {
    const attributes: Record<string, unknown> = {};
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
  // Passed on as given: send() refuses an urgency it does not know, with its own message.
  if (values.urgency !== undefined) sendOptions.urgency = values.urgency as SendOptions['urgency'];
  if (values.topic !== undefined) sendOptions.topic = values.topic;
  return { envelope, sendOptions };
}

/** VAPID keys from the environment, or from `--env FILE`. */
export function vapidFromEnv(envFile: string | undefined): VapidDetails {
  const env: Record<string, string | undefined> = { ...process.env, ...(envFile ? readEnvFile(envFile) : {}) };
  const { VAPID_PUBLIC_KEY: publicKey, VAPID_PRIVATE_KEY: privateKey, VAPID_SUBJECT: subject } = env;
  if (!publicKey || !privateKey || !subject) {
    throw new UsageError('VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY and VAPID_SUBJECT must be set (environment or --env)');
  }
  return { publicKey, privateKey, subject };
}
