// What `tidings send` reads from its flags, for both ways of sending: at once from this
// process (SQLite) or through the queue (--redis). One parser, so both accept the same.
import type { Envelope, SendOptions, VapidDetails } from '../server/index.js';
import { audienceFromAttrFlags, audienceFromJson } from './audienceFlags.js';
import { controlsFromFlags, controlFlags, type ControlValues } from './controlFlags.js';
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
  audience: { type: 'string' },
  data: { type: 'string' },
  ttl: { type: 'string' },
  urgency: { type: 'string' },
  topic: { type: 'string' },
  env: { type: 'string' },
  ...controlFlags,
} as const satisfies OptionSpec;

/** What parseArgs makes of messageFlags. */
export interface MessageValues extends ControlValues {
  title?: string | undefined;
  body?: string | undefined;
  url?: string | undefined;
  to?: string | undefined;
  attr?: string[] | undefined;
  audience?: string | undefined;
  data?: string | undefined;
  ttl?: string | undefined;
  urgency?: string | undefined;
  topic?: string | undefined;
}

/** The envelope and send() options the flags describe; UsageError for a bad one. */
export function messageFromFlags(values: MessageValues): { envelope: Envelope; sendOptions: SendOptions } {
  if (!values.title) throw new UsageError('send needs --title TEXT');
  if ([values.to, values.attr, values.audience].filter((flag) => flag !== undefined).length > 1) {
    throw new UsageError('use one of --to, --attr and --audience');
  }
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
  if (values.to !== undefined) {
    // An empty list must not fall through to "everyone".
    const ids = values.to.split(',').filter(Boolean);
    if (ids.length === 0) throw new UsageError('--to needs subscription ids: --to ID[,ID...]');
    sendOptions.to = ids;
  }
  if (values.attr) sendOptions.to = audienceFromAttrFlags(values.attr);
  if (values.audience !== undefined) sendOptions.to = audienceFromJson(values.audience);
  if (values.ttl !== undefined) {
    if (!/^\d+$/.test(values.ttl)) throw new UsageError('--ttl must be whole seconds');
    sendOptions.ttl = Number(values.ttl);
  }
  // Passed on as given: send() refuses an urgency it does not know, with its own message.
  if (values.urgency !== undefined) sendOptions.urgency = values.urgency as SendOptions['urgency'];
  if (values.topic !== undefined) sendOptions.topic = values.topic;
  Object.assign(sendOptions, controlsFromFlags(values));
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
