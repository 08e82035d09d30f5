// Runs first in `npm test`: does this machine have the browsers and tools the browser,
// package and recipe tests drive? Where something is missing it stops at once, naming the
// Debian packages and how to install them, instead of minutes of type-checking and unit
// tests followed by a wall of "executable doesn't exist". Where everything is there it
// prints nothing. No dependencies: it runs before `npm ci` too.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What the tests need, each with the Debian packages that bring it. Paths are the ones
 * the test support uses (test/e2e/support/*.ts); CHROMIUM_PATH and FIREFOX_PATH move the
 * browsers there too. The Python is the one the WebKit embedder's and the notification
 * server's `#!/usr/bin/python3` line names.
 */
export function requirements(env = process.env) {
  return [
    { what: 'Chromium', path: env.CHROMIUM_PATH ?? '/usr/bin/chromium', packages: ['chromium'] },
    { what: 'Firefox ESR', path: env.FIREFOX_PATH ?? '/usr/bin/firefox-esr', packages: ['firefox-esr'] },
    { what: 'WebKitWebDriver', command: 'WebKitWebDriver', packages: ['webkit2gtk-driver', 'libwebkit2gtk-4.1-0'] },
    { what: 'Xvfb (WebKitGTK has no headless mode)', command: 'Xvfb', packages: ['xvfb', 'xauth'] },
    { what: 'dbus-daemon (a real notification click in Chromium)', command: 'dbus-daemon', packages: ['dbus-daemon'] },
    { what: 'Python 3 with GObject and WebKit2 4.1', python: env.TIDINGS_PYTHON3 ?? '/usr/bin/python3', packages: ['python3-gi', 'gir1.2-webkit2-4.1'] },
  ];
}

// Exits 0 when gi can load WebKit2 4.1 and Gio; else prints why.
const PYTHON_PROBE = `import gi
gi.require_version('Gio', '2.0')
gi.require_version('WebKit2', '4.1')`;

/** The requirements this machine does not meet. Takes well under a second: it runs nothing but one Python import. */
export function findMissing(env = process.env) {
  const executable = (path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  const onPath = (command) => (env.PATH ?? '').split(delimiter).some((dir) => dir && executable(join(dir, command)));
  return requirements(env).filter((need) => {
    if (need.path) return !executable(need.path);
    if (need.command) return !onPath(need.command);
    if (!executable(need.python)) return true;
    return spawnSync(need.python, ['-c', PYTHON_PROBE], { stdio: 'ignore', timeout: 10_000, env }).status !== 0;
  });
}

/** What to tell someone whose machine lacks `missing`. */
export function advice(missing) {
  const packages = [...new Set(missing.flatMap((need) => need.packages))];
  return [
    'tidings: the browser tests need what this machine does not have:',
    ...missing.map((need) => `  - ${need.what}${need.path ? ` (${need.path})` : need.python ? ` (${need.python})` : ''}: ${need.packages.join(' ')}`),
    '',
    'Install them from Debian, as root:',
    `  apt-get update && apt-get install -y ${packages.join(' ')}`,
    'or run .ci/run as root: it installs them (and PostgreSQL and Redis), then runs npm ci and npm test.',
    'CHROMIUM_PATH and FIREFOX_PATH point the tests at browsers installed elsewhere.',
    'Nothing was tested.',
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const missing = findMissing();
  if (missing.length) {
    console.error(advice(missing));
    process.exit(1);
  }
}
