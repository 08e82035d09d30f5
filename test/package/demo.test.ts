import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, expect, it } from 'vitest';

const bin = resolve('bin/tidings.js');
let dir: string | undefined;

afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs `tidings demo` on free ports in `cwd` until it prints its running banner; then stops it. */
function runDemo(cwd: string): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [bin, 'demo', '--port', '0', '--push-port', '0'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let stopping = false;
    child.stdout.on('data', (chunk) => {
      out += chunk;
      // Once: the demo stops on the first SIGTERM and a second would kill it mid-close.
      if (!stopping && out.includes('Ctrl-C stops it.')) stopping = child.kill('SIGTERM');
    });
    child.stderr.on('data', (chunk) => (err += chunk));
    child.once('exit', (code) => (code === 0 ? done(out) : fail(new Error(`demo exited ${code}: ${err}`))));
  });
}

it('tidings demo keeps its data under the current directory and says where', async () => {
  dir = mkdtempSync(join(tmpdir(), 'tidings-demo-cwd-'));
  const out = await runDemo(dir);
  const data = join(dir, '.tidings-demo');
  expect(out).toContain(`Data:          ${data} `);
  for (const file of ['vapid.json', 'tidings.db', 'firefox-profile/user.js']) expect(existsSync(join(data, file)), file).toBe(true);
  // Nothing beside the demo's own code, which is node_modules/tidings/demo once installed.
  expect(existsSync(resolve('demo/data'))).toBe(false);
});
