import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { requirements } from '../../../scripts/preflight.mjs';

// scripts/preflight.mjs, which `npm test` runs first: on a machine without the browsers it
// must stop before anything else runs, and say what to install and how.
const script = resolve(import.meta.dirname, '../../../scripts/preflight.mjs');
let dir: string;
beforeEach(() => void (dir = mkdtempSync(join(tmpdir(), 'tidings-preflight-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** An executable shell script at `name` in the temp dir, that prints `out` and exits `code`. */
function fake(name: string, out = '', code = 0): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\nprintf '%s' '${out}'\nexit ${code}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** Runs the preflight with only `env` (PATH included) and answers how it ended. */
function preflight(env: Record<string, string>) {
  return spawnSync(process.execPath, [script], { env, encoding: 'utf8', timeout: 20_000 });
}

/** A machine with all of it: the browsers and tools as fakes, Python that loads everything. */
const equipped = () => {
  for (const command of ['WebKitWebDriver', 'Xvfb', 'dbus-daemon']) fake(command);
  return { PATH: dir, CHROMIUM_PATH: fake('chromium'), FIREFOX_PATH: fake('firefox-esr'), TIDINGS_PYTHON3: fake('python3') };
};

describe('the preflight of npm test', () => {
  it('on a machine with nothing, exits 1 naming every Debian package, the apt-get line and .ci/run', () => {
    const nothing = join(dir, 'nothing');
    const run = preflight({ PATH: nothing, CHROMIUM_PATH: join(nothing, 'chromium'), FIREFOX_PATH: join(nothing, 'firefox'), TIDINGS_PYTHON3: join(nothing, 'python3') });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    const packages = 'chromium firefox-esr webkit2gtk-driver libwebkit2gtk-4.1-0 xvfb xauth dbus-daemon python3-gi gir1.2-webkit2-4.1';
    expect(run.stderr).toContain(`apt-get update && apt-get install -y ${packages}\n`);
    expect(run.stderr).toContain('run .ci/run as root');
    expect(run.stderr).toContain(`Chromium (${join(nothing, 'chromium')}): chromium`);
    expect(run.stderr).toContain('Nothing was tested.');
  });

  it('where everything is there, exits 0 and prints nothing', () => {
    const run = preflight(equipped());
    expect(run).toMatchObject({ status: 0, stdout: '', stderr: '' });
  });

  it('names only what is missing: Firefox elsewhere than FIREFOX_PATH says', () => {
    const run = preflight({ ...equipped(), FIREFOX_PATH: join(dir, 'no-firefox') });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('apt-get install -y firefox-esr\n');
  });

  it("asks Python itself whether GObject and WebKit2 4.1 load: a Python that cannot is named", () => {
    const run = preflight({ ...equipped(), TIDINGS_PYTHON3: fake('python3-without-gi', 'ModuleNotFoundError', 1) });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('apt-get install -y python3-gi gir1.2-webkit2-4.1\n');
  });

  it('a command counts only when PATH has it, executable', () => {
    const env = equipped();
    rmSync(join(dir, 'dbus-daemon'));
    writeFileSync(join(dir, 'dbus-daemon'), 'not executable');
    const run = preflight(env);
    expect(run.stderr).toContain('apt-get install -y dbus-daemon\n');
  });

  it('runs first in npm test and in test:browser', () => {
    const { scripts } = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../../package.json'), 'utf8'));
    expect(scripts.test).toMatch(/^node scripts\/preflight\.mjs && /);
    expect(scripts['test:browser']).toMatch(/^node scripts\/preflight\.mjs && /);
  });

  it('names no package that .ci/run would not install', () => {
    const ci = readFileSync(resolve(import.meta.dirname, '../../../.ci/run'), 'utf8');
    for (const { packages } of requirements({})) for (const name of packages) expect(ci, name).toMatch(new RegExp(`\\b${name.replace(/\./g, '\\.')}\\b`));
  });
});
