import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// bin/tidings.js in a checkout with no dist/ yet (a fresh clone before npm run build).
describe('bin/tidings.js before a build', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tidings-bin-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('says in one line that dist/cli.js is missing and what to run, exit 2, no stack trace', () => {
    mkdirSync(join(dir, 'bin'));
    copyFileSync(resolve('bin/tidings.js'), join(dir, 'bin/tidings.js'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    const run = spawnSync(process.execPath, [join(dir, 'bin/tidings.js'), 'demo'], { encoding: 'utf8', timeout: 10_000 });
    expect(run.status).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringContaining('npm run build')]);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
