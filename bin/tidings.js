#!/usr/bin/env node
// The tidings command line. Plain ESM on top of the built bundles (npm run build).
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { messageFlags, messageFromFlags, vapidFromEnv } from './sendOptions.js';

const usage = `Usage: tidings <command> [options]

Commands:
  vapid [--subject URI] [--env FILE] [--force] [--public-env-name NAME]
      Print a new VAPID key pair as .env lines, or write them to FILE.
      --public-env-name also writes the public key as NAME (e.g. VITE_VAPID_PUBLIC_KEY).
  send --store FILE.db --title TEXT [--body TEXT] [--url PATH] [--to ID[,ID...]]
       [--attr KEY=VALUE ...] [--data JSON] [--ttl SECONDS] [--urgency LEVEL] [--topic NAME]
       [--env FILE] [--allow-loopback]
      Send a notification to the subscriptions in a SQLite store. VAPID keys come from
      VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY and VAPID_SUBJECT (environment or --env FILE).
      Only the known push services are sent to; --allow-loopback adds the local one.
  send --redis URL --store postgres://…|FILE.db --title TEXT [same message flags]
       [--schema NAME] [--queue NAME] [--batch-size N] [--no-wait] [--allow-loopback]
      Queue the send for senders (tidings sender) and show its progress until done;
      --no-wait prints the message id and returns at once.
  sender --redis URL --store postgres://…|FILE.db [--env FILE] [--concurrency N]
         [--schema NAME] [--queue NAME] [--stall-timeout MS] [--allow-loopback]
      Deliver queued sends until SIGTERM (then finish the batch in flight and exit 0).
      Run one per core, on as many machines as you like. See docs/scale.md.
  push-service [--port N] [--tls]
      Run the local push service on 127.0.0.1 and print the Firefox prefs for it.
  demo [--port N] [--push-port N] [--data-dir DIR]
      Run the demo: local push service, a backend with SQLite and the demo site,
      on 127.0.0.1 (defaults: site 4800, push service 4801, data in ./.tidings-demo).
  help
      Show this text.
`;

class UsageError extends Error {}

// What the queue commands (queueCommands.js) borrow from this file.
const cli = { options: (...args) => options(...args), UsageError, readEnvFile: (file) => readEnvFile(file) };
const queueCommands = async () => (await import('./queueCommands.js')).queueCommands(cli);

async function main(argv) {
  const [command, ...rest] = argv;
  switch (command) {
    case 'vapid':
      return vapid(rest);
    case 'send':
      return send(rest);
    case 'sender':
      return (await queueCommands()).sender(rest);
    case 'push-service':
      return pushService(rest);
    case 'demo':
      return demo(rest);
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(usage);
      return 0;
    case undefined:
      throw new UsageError('no command given');
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

function options(args, spec) {
  try {
    return parseArgs({ args, options: spec, allowPositionals: false, strict: true }).values;
  } catch (error) {
    throw new UsageError(error.message.split('\n')[0]);
  }
}

async function vapid(args) {
  const values = options(args, {
    subject: { type: 'string' },
    env: { type: 'string' },
    force: { type: 'boolean' },
    'public-env-name': { type: 'string' },
  });
  const publicName = values['public-env-name'];
  // The name becomes the start of a .env line: anything but a plain upper-case name (an `=`,
  // a newline) could write a second key; a VAPID_ name would overwrite the private key.
  if (publicName !== undefined) {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(publicName)) throw new UsageError('--public-env-name must be an upper-case name: A-Z, 0-9 and _, not starting with a digit');
    if (VAPID_KEYS.includes(publicName)) throw new UsageError(`--public-env-name must not be ${publicName}, which tidings writes itself`);
  }
  const subject = values.subject ?? 'mailto:you@example.com';
  // A newline would add lines of its own to the .env file (a second VAPID_PRIVATE_KEY).
  if (CONTROL.test(subject)) throw new UsageError('--subject must not contain control characters (newlines, tabs, escapes)');
  if (!/^(mailto:.+|https:\/\/.+)/.test(subject)) throw new UsageError('--subject must be a mailto: or https: URI');
  if (values.env) checkEnvTarget(values.env);
  const { generateVapidKeys } = await import('../dist/server.js');
  const keys = generateVapidKeys();
  const publicLine = publicName ? `${publicName}=${keys.publicKey}\n` : '';
  const lines = `VAPID_PUBLIC_KEY=${keys.publicKey}\nVAPID_PRIVATE_KEY=${keys.privateKey}\nVAPID_SUBJECT=${subject}\n${publicLine}`;
  if (isPlaceholder(subject)) {
    process.stderr.write(
      `tidings: warning: ${subject} is a placeholder; Apple's push service refuses such subjects (403 BadJwtToken). ` +
        'Use --subject with a mailto: or https: address of your own.\n',
    );
  }
  if (!values.env) {
    process.stdout.write(lines);
    return 0;
  }
  const existing = existsSync(values.env) ? readFileSync(values.env, 'utf8') : '';
  const entries = existing.split(/\r?\n/).map((line) => [line, envEntry(line)?.[0]]);
  // Replacing keys silently would orphan every subscription made with the old ones.
  if (entries.some(([, key]) => key === 'VAPID_PRIVATE_KEY') && !values.force) {
    throw new UsageError(`${values.env} already has VAPID keys (--force replaces them)`);
  }
  // The bundler's copy of the public key is replaced with the others, never left stale.
  const written = publicName ? [...VAPID_KEYS, publicName] : VAPID_KEYS;
  const kept = entries.filter(([line, key]) => line && !written.includes(key)).map(([line]) => line);
  // The private key is a secret: written owner-only to a new file beside the old one,
  // then renamed over it, so the old file's mode and any link in its place do not count.
  const temporary = join(dirname(values.env), `.${basename(values.env)}.${process.pid}.tmp`);
  try {
    writeFileSync(temporary, [...kept, lines].join('\n'), { mode: 0o600, flag: 'wx' });
    renameSync(temporary, values.env);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new UsageError(`cannot write ${values.env}: ${error.code ?? error.message}`);
  }
  process.stdout.write(`Wrote VAPID keys to ${values.env}\nPublic key: ${keys.publicKey}\n`);
  if (isTrackable(values.env)) {
    process.stderr.write(
      `tidings: warning: ${values.env} is not ignored by git; its private key is one \`git add\` away from being committed. ` +
        `Add ${basename(values.env)} to .gitignore.\n`,
    );
  }
  return 0;
}

/**
 * Whether git would pick up `file` (a work tree holds it and no ignore rule covers it). Without
 * git, or outside a repository, there is nothing to warn about, so the answer is false.
 */
function isTrackable(file) {
  const cwd = dirname(resolve(file));
  const git = (...args) => spawnSync('git', args, { cwd, stdio: 'ignore' });
  const inside = git('rev-parse', '--is-inside-work-tree');
  if (inside.error || inside.status !== 0) return false;
  // check-ignore: 0 ignored, 1 not ignored, 128 an error (nothing to say then).
  return git('check-ignore', '-q', '--', basename(file)).status === 1;
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const VAPID_KEYS = ['VAPID_PUBLIC_KEY', 'VAPID_PRIVATE_KEY', 'VAPID_SUBJECT'];

/** One line of a .env file as [key, value], as dotenv reads it: leading spaces and `export ` allowed. */
function envEntry(line) {
  const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
  return match ? [match[1], match[2].replace(/^(['"])(.*)\1$/, '$2')] : undefined;
}

/** The .env file `vapid` writes must be a plain file or nothing: a link would have its target rewritten. */
function checkEnvTarget(file) {
  let stats;
  try {
    stats = lstatSync(file);
  } catch (error) {
    if (error.code === 'ENOENT') return;
    throw new UsageError(`cannot read --env ${file}: ${error.code}`);
  }
  if (stats.isSymbolicLink()) throw new UsageError(`--env ${file} is a symbolic link; give the file it points to`);
  if (!stats.isFile()) throw new UsageError(`--env ${file} is not a regular file`);
}

/** Subjects Apple refuses: the documentation domains (RFC 2606, 6761) and local hosts. */
function isPlaceholder(subject) {
  const domain = (subject.startsWith('mailto:') ? subject.slice(subject.lastIndexOf('@') + 1).split('?')[0] : safeHost(subject))
    .toLowerCase()
    .replace(/\.+$/, '');
  return (
    /(^|\.)example\.(com|org|net)$/.test(domain) ||
    /(^|\.)(localhost|example|test|invalid|local)$/.test(domain) ||
    /^(127\.|\[::1\]$)/.test(domain)
  );
}

function safeHost(url) {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}

function readEnvFile(file) {
  if (!existsSync(file)) throw new UsageError(`--env file ${file} does not exist`);
  if (!statSync(file).isFile()) throw new UsageError(`--env ${file} is not a regular file`);
  const out = {};
  for (const line of readFileSync(file, 'utf8').split(/\r?\n/)) {
    const entry = envEntry(line);
    if (entry) out[entry[0]] = entry[1];
  }
  return out;
}

async function send(args) {
  if (args.some((arg) => arg === '--redis' || arg.startsWith('--redis='))) return (await queueCommands()).send(args);
  const values = options(args, { store: { type: 'string' }, ...messageFlags, 'allow-loopback': { type: 'boolean' } });
  if (!values.store) throw new UsageError('send needs --store FILE.db');
  const { envelope, sendOptions } = messageFromFlags(values, UsageError);
  if (!existsSync(values.store)) throw new UsageError(`store ${values.store} does not exist`);
  const vapid = vapidFromEnv(values.env, readEnvFile, UsageError);

  const { createPushServer, sqliteStore, isTidingsError } = await import('../dist/server.js');
  let store;
  try {
    store = sqliteStore(values.store);
    const server = createPushServer({ vapid, store, allowLoopbackEndpoints: Boolean(values['allow-loopback']) });
    const result = await server.send(envelope, sendOptions);
    process.stdout.write(`message ${result.id}: sent ${result.sent}, gone ${result.gone}, failed ${result.failed}\n`);
    for (const error of result.errors) {
      process.stderr.write(`failed ${error.subscriptionId}${error.status ? ` (HTTP ${error.status})` : ''}: ${error.reason}\n`);
    }
    return result.failed > 0 ? 1 : 0;
  } catch (error) {
    if (isTidingsError(error)) throw new UsageError(error.message);
    throw error;
  } finally {
    await store?.close();
  }
}

async function pushService(args) {
  const values = options(args, { port: { type: 'string' }, tls: { type: 'boolean' } });
  const port = portOption(values.port, '--port') ?? 0;
  const { startPushService } = await import('../dist/testing.js');
  const service = await startPushService({ port, tls: Boolean(values.tls) });
  const lines = [`Push service: ${service.url}`, `WebSocket (Firefox): ${service.webSocketUrl}`];
  if (service.ca) {
    const caFile = join(tmpdir(), `tidings-push-ca-${process.pid}.pem`);
    writeFileSync(caFile, service.ca);
    lines.push(`CA certificate: ${caFile} (for Node: NODE_EXTRA_CA_CERTS=${caFile})`);
  }
  lines.push('', 'Firefox prefs (user.js):');
  for (const [name, value] of Object.entries(service.firefoxPrefs())) lines.push(`user_pref(${JSON.stringify(name)}, ${JSON.stringify(value)});`);
  lines.push('', 'Ctrl-C stops it.');
  await printUntilStopped(lines);
  await service.close();
  return 0;
}

async function demo(args) {
  const values = options(args, {
    port: { type: 'string' },
    'push-port': { type: 'string' },
    'data-dir': { type: 'string' },
  });
  const port = portOption(values.port, '--port');
  const pushPort = portOption(values['push-port'], '--push-port');
  const { startDemo, demoDefaults } = await import('../demo/startDemo.mjs');
  let demo;
  try {
    demo = await startDemo({
      port: port ?? demoDefaults.port,
      pushPort: pushPort ?? demoDefaults.pushPort,
      dataDir: values['data-dir'] ?? demoDefaults.dataDir,
    });
  } catch (error) {
    // A page-only install has none of the server packages: name all the demo needs at
    // once, rather than one per attempt.
    if (error?.code !== 'missing-dependency') throw error;
    process.stderr.write(`tidings: the demo runs a backend; install its packages first:\n  npm install better-sqlite3@12 web-push@3 ws@8\n(${error.message})\n`);
    return 1;
  }
  const lines = [
    'tidings demo is running.',
    '',
    `  Site:          ${demo.url}`,
    `  Backend:       ${demo.origin}/api/push (tidings/server, SQLite in ${demo.dbFile})`,
    `  Push service:  ${demo.pushService.url} (WebSocket for Firefox: ${demo.pushService.webSocketUrl})`,
    `  Data:          ${demo.dataDir} (SQLite, VAPID keys, Firefox profile; delete it to start over)`,
    '',
    'Open it in Firefox pointed at the local push service (a profile with the prefs is ready):',
    `  firefox-esr --profile ${demo.profileDir} --no-remote ${demo.url}`,
    '',
    'Or set these prefs in about:config of a Firefox profile, then restart it:',
    ...Object.entries(demo.pushService.firefoxPrefs()).map(([name, value]) => `  ${name} = ${JSON.stringify(value)}`),
    '',
    'Chrome and Edge use their own push service, so they need internet access; see the README.',
    'Ctrl-C stops it.',
  ];
  await printUntilStopped(lines);
  await demo.close();
  process.stdout.write('tidings demo stopped.\n');
  return 0;
}

/** Prints `lines`, then waits for Ctrl-C or SIGTERM. */
async function printUntilStopped(lines) {
  // Listen before printing: a script may signal as soon as it reads the output.
  const stopped = new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  process.stdout.write(`${lines.join('\n')}\n`);
  await stopped;
}

function portOption(value, name) {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new UsageError(`${name} must be a number from 0 to 65535`);
  return port;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    if (error instanceof UsageError) {
      process.stderr.write(`tidings: ${error.message}\nRun "tidings help" for usage.\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`tidings: ${error?.stack ?? error}\n`);
      process.exitCode = 1;
    }
  },
);
