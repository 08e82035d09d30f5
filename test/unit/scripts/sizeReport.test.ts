import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const script = resolve(import.meta.dirname, '../../../scripts/size-report.mjs');
let dir: string;

/** Runs the size report in a folder whose dist/ (and build/dashboard/) hold the given bundles. */
function report(page: string, worker: string, dashboard = { js: 'var d=1;', css: 'a{}' }) {
  dir = mkdtempSync(join(tmpdir(), 'tidings-size-'));
  mkdirSync(join(dir, 'dist'));
  mkdirSync(join(dir, 'build/dashboard'), { recursive: true });
  writeFileSync(join(dir, 'dist/tidings.iife.js'), page);
  writeFileSync(join(dir, 'dist/tidings-worker.iife.js'), worker);
  writeFileSync(join(dir, 'build/dashboard/dashboard.js'), dashboard.js);
  writeFileSync(join(dir, 'build/dashboard/dashboard.css'), dashboard.css);
  return spawnSync(process.execPath, [script], { cwd: dir, encoding: 'utf8' });
}

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the build size report', () => {
  it('passes small, CSP-safe bundles', () => {
    expect(report('var Tidings=1;', 'var TidingsWorker=1;').status).toBe(0);
  });

  it('fails the build when a bundle passes its CI limit', () => {
    // Random bytes do not compress: 4 KB of them is over the page's 3 KB limit.
    const result = report(`var x="${randomBytes(4096).toString('base64')}";`, 'var w=1;');
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('OVER THE CI LIMIT');
  });

  it("fails the build when the dashboard's script and style together pass 60 KB", () => {
    // 40 KB of random bytes each: neither alone is over, both together are.
    const noise = () => randomBytes(40 * 1024).toString('base64');
    const result = report('var a=1;', 'var w=1;', { js: `var x="${noise()}";`, css: `/*${noise()}*/` });
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/build\/dashboard\/dashboard js\+css .*OVER THE CI LIMIT/);
    expect(report('var a=1;', 'var w=1;', { js: `var x="${noise()}";`, css: 'a{}' }).status).toBe(0);
  });

  it('fails the build on eval or new Function, which a strict CSP refuses', () => {
    expect(report('var a=eval("1");', 'var w=1;').status).toBe(1);
    expect(report('var a=1;', 'var f=new Function("return 1");').status).toBe(1);
    expect(report('var a={eval:1};a.eval(2);', 'var w=1;').status).toBe(0);
    expect(report('var a=1;', 'var w=1;', { js: 'var f=new Function("x");', css: '' }).status).toBe(1);
  });
});
