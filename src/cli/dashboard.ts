// `tidings dashboard`: the dashboard alone, against a store (and a queue), for a site that
// does not want it inside its app. Open to nobody by default: HTTP Basic, any user name
// (recorded as the sender), a token as the password.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readEnvFile } from './envFile.js';
import { options } from './options.js';
import { openStore } from './openStore.js';
import { portOption } from './portOption.js';
import { printUntilStopped } from './printUntilStopped.js';
import { vapidFromEnv } from './sendOptions.js';
import { UsageError } from './UsageError.js';

/** Where the token comes from when it is not made up at start. */
export const TOKEN_VARIABLE = 'TIDINGS_DASHBOARD_TOKEN';

/**
 * Checks `Authorization: Basic` against the token: the user name, whatever it is, names the
 * viewer (1 to 64 characters); a wrong or missing password gets the browser's login prompt.
 */
export function basicAuthorize(token: string) {
  const expected = Buffer.from(token);
  const challenge = () =>
    new Response(JSON.stringify({ error: 'unauthorized' }), {
      status: 401,
      headers: { 'content-type': 'application/json', 'www-authenticate': 'Basic realm="tidings dashboard", charset="UTF-8"' },
    });
  return (request: Request): string | Response => {
    const match = /^Basic ([A-Za-z0-9+/=]+)$/.exec(request.headers.get('authorization') ?? '');
    if (!match) return challenge();
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = decoded.slice(0, colon);
    const password = Buffer.from(decoded.slice(colon + 1));
    const valid = colon > 0 && user.length <= 64 && password.length === expected.length && timingSafeEqual(password, expected);
    return valid ? user : challenge();
  };
}

export async function dashboard(args: string[]): Promise<number> {
  const values = options(args, {
    store: { type: 'string' },
    schema: { type: 'string' },
    redis: { type: 'string' },
    queue: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    env: { type: 'string' },
    'allow-loopback': { type: 'boolean' },
  });
  if (!values.store) throw new UsageError('dashboard needs --store FILE.db or --store postgres://…');
  if (values.redis !== undefined && !/^rediss?:\/\//.test(values.redis)) throw new UsageError('--redis must be a redis:// or rediss:// URL');
  const port = portOption(values.port, '--port') ?? 4900;
  const host = values.host ?? '127.0.0.1';
  const vapid = vapidFromEnv(values.env);
  const env: Record<string, string | undefined> = { ...process.env, ...(values.env ? readEnvFile(values.env) : {}) };
  const given = env[TOKEN_VARIABLE];
  if (given !== undefined && given.length < 16) throw new UsageError(`${TOKEN_VARIABLE} must be at least 16 characters`);
  const token = given ?? randomBytes(18).toString('base64url');

  const store = await openStore(values.store, values.schema);
  const { createPushServer, toNodeHandler } = await import('../server/index.js');
  const { createDashboard } = await import('../dashboard/index.js');
  const allowLoopbackEndpoints = Boolean(values['allow-loopback']);
  const push = createPushServer({ vapid, store, allowLoopbackEndpoints });
  const queue = values.redis
    ? (await import('../queue/index.js')).createSendQueue({ redis: values.redis, store, vapid, allowLoopbackEndpoints, ...(values.queue ? { name: values.queue } : {}) })
    : undefined;
  const { handler } = createDashboard({ push, ...(queue ? { queue } : {}), authorize: basicAuthorize(token), basePath: '/' });

  const { createServer } = await import('node:http');
  const server = createServer(toNodeHandler(handler));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address() as { port: number };
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}/`;
  await printUntilStopped([
    `tidings dashboard: ${url}`,
    `  Store: ${values.store.replace(/\/\/[^@/]*@/, '//…@')}${queue ? ` (sends through the queue at ${values.redis!.replace(/\/\/[^@/]*@/, '//…@')})` : ''}`,
    '  Sign in with any user name (it is recorded as the sender of what you send) and the token:',
    given !== undefined ? `  the token is ${TOKEN_VARIABLE} (from the environment or --env)` : `  ${token}    (made up for this run; set ${TOKEN_VARIABLE} to choose one)`,
    'Ctrl-C stops it.',
  ]);
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await queue?.close();
  await store.close();
  return 0;
}
