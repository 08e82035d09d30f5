// `tidings vapid`: a new VAPID key pair, printed as .env lines or written to a .env file.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, renameSync, rmSync, writeFileSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { envEntry } from './envFile.js';
import { options } from './options.js';
import { UsageError } from './UsageError.js';

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const VAPID_KEYS = ['VAPID_PUBLIC_KEY', 'VAPID_PRIVATE_KEY', 'VAPID_SUBJECT'];

export async function vapid(args: string[]): Promise<number> {
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
  const { generateVapidKeys } = await import('../server/index.js');
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
  const entries = existing.split(/\r?\n/).map((line) => [line, envEntry(line)?.[0]] as const);
  // Replacing keys silently would orphan every subscription made with the old ones.
  if (entries.some(([, key]) => key === 'VAPID_PRIVATE_KEY') && !values.force) {
    throw new UsageError(`${values.env} already has VAPID keys (--force replaces them)`);
  }
  // The bundler's copy of the public key is replaced with the others, never left stale.
  const written = publicName ? [...VAPID_KEYS, publicName] : VAPID_KEYS;
  const kept = entries.filter(([line, key]) => line && !(key !== undefined && written.includes(key))).map(([line]) => line);
  // The private key is a secret: written owner-only to a new file beside the old one,
  // then renamed over it, so the old file's mode and any link in its place do not count.
  const temporary = join(dirname(values.env), `.${basename(values.env)}.${process.pid}.tmp`);
  try {
    writeFileSync(temporary, [...kept, lines].join('\n'), { mode: 0o600, flag: 'wx' });
    renameSync(temporary, values.env);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new UsageError(`cannot write ${values.env}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
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
function isTrackable(file: string): boolean {
  const cwd = dirname(resolve(file));
  const git = (...args: string[]) => spawnSync('git', args, { cwd, stdio: 'ignore' });
  const inside = git('rev-parse', '--is-inside-work-tree');
  if (inside.error || inside.status !== 0) return false;
  // check-ignore: 0 ignored, 1 not ignored, 128 an error (nothing to say then).
  return git('check-ignore', '-q', '--', basename(file)).status === 1;
}

/** The .env file `vapid` writes must be a plain file or nothing: a link would have its target rewritten. */
function checkEnvTarget(file: string): void {
  let stats: Stats;
  try {
    stats = lstatSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    throw new UsageError(`cannot read --env ${file}: ${code}`);
  }
  if (stats.isSymbolicLink()) throw new UsageError(`--env ${file} is a symbolic link; give the file it points to`);
  if (!stats.isFile()) throw new UsageError(`--env ${file} is not a regular file`);
}

/** Subjects Apple refuses: the documentation domains (RFC 2606, 6761) and local hosts. */
function isPlaceholder(subject: string): boolean {
  const domain = (subject.startsWith('mailto:') ? (subject.slice(subject.lastIndexOf('@') + 1).split('?')[0] ?? '') : safeHost(subject))
    .toLowerCase()
    .replace(/\.+$/, '');
  return (
    /(^|\.)example\.(com|org|net)$/.test(domain) ||
    /(^|\.)(localhost|example|test|invalid|local)$/.test(domain) ||
    /^(127\.|\[::1\]$)/.test(domain)
  );
}

function safeHost(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}
