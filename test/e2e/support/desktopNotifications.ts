import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

/** The desktop's notification service, stood in for (see notification-server.py). */
export const NOTIFICATION_SERVER = resolve(import.meta.dirname, 'notification-server.py');

export interface DesktopNotifications {
  /** The environment a browser needs to show its notifications here: the private session bus. */
  env: Record<string, string>;
  /** Waits until the browser showed a notification titled `title`; answers its desktop id. */
  shown(title: string, timeoutMs?: number): Promise<number>;
  /** Clicks notification `id` as the user would: the browser fires a real notificationclick. */
  click(id: number): void;
  close(): Promise<void>;
}

// A session bus of the test's own: no service files (so nothing is started on demand, not
// even the desktop portal), anyone on it may own a name.
const BUS_CONFIG = (dir: string) => `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=${dir}</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`;

/**
 * Starts a private D-Bus session bus (Debian's dbus-daemon) and, on it, a stand-in for the
 * desktop's notification service, so that Chromium (launched with `env`, on a persistent
 * profile: Playwright's incognito-like contexts do not get the click back) shows its
 * notifications there and a test can click them for real. Firefox does too, launched with
 * `env` and the pref `alerts.useSystemBackend: true` (click-close-firefox.test.ts).
 */
export async function startDesktopNotifications(): Promise<DesktopNotifications> {
  const dir = await mkdtemp(join(tmpdir(), 'tidings-bus-'));
  const children: ChildProcess[] = [];
  const close = async () => {
    for (const child of children.reverse()) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((done) => child.once('exit', done));
        child.kill('SIGTERM');
        await exited;
      }
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await writeFile(join(dir, 'bus.conf'), BUS_CONFIG(dir));
    const bus = spawn('dbus-daemon', [`--config-file=${join(dir, 'bus.conf')}`, '--nofork', '--print-address=1'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    children.push(bus);
    const address = await firstLine(bus, 10_000);
    const env = { DBUS_SESSION_BUS_ADDRESS: address };
    const server = spawn(NOTIFICATION_SERVER, [], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    children.push(server);
    const notifications: { id: number; title: string }[] = [];
    let ready = false;
    const waiters = new Set<() => void>();
    createInterface({ input: server.stdout! }).on('line', (line) => {
      const shown = /^notify (\d+) (.*)$/.exec(line);
      if (line === 'ready') ready = true;
      else if (shown) notifications.push({ id: Number(shown[1]), title: JSON.parse(shown[2]!) });
      for (const wake of waiters) wake();
    });
    const until = async <T>(found: () => T | undefined, what: string, timeoutMs: number): Promise<T> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = found();
        if (value !== undefined) return value;
        if (server.exitCode !== null) throw new Error(`the notification server exited (${server.exitCode})`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise<void>((wake) => {
          const timer = setTimeout(wake, 100);
          waiters.add(() => (clearTimeout(timer), wake()));
        });
        waiters.clear();
      }
    };
    await until(() => (ready ? true : undefined), 'the notification server', 10_000);
    return {
      env,
      shown: (title, timeoutMs = 15_000) =>
        until(() => notifications.find((n) => n.title === title)?.id, `a desktop notification titled ${title}`, timeoutMs),
      click: (id) => void server.stdin!.write(`click ${id}\n`),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The first line `child` prints. */
function firstLine(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error('dbus-daemon printed no address')), timeoutMs);
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      done(line.trim());
    });
    child.once('error', fail);
  });
}
