import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const script = resolve(import.meta.dirname, '../../../scripts/size-report.mjs');
let dir: string;

/** Runs the size report in a folder whose dist/ holds the given bundles. */
function report(page: string, worker: string) {
  dir = mkdtempSync(join(tmpdir(), 'tidings-size-'));
  mkdirSync(join(dir, 'dist'));
  writeFileSync(join(dir, 'dist/tidings.iife.js'), page);
  writeFileSync(join(dir, 'dist/tidings-worker.iife.js'), worker);
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

  it('fails the build on eval or new Function, which a strict CSP refuses', () => {
    expect(report('var a=eval("1");', 'var w=1;').status).toBe(1);
    expect(report('var a=1;', 'var f=new Function("return 1");').status).toBe(1);
    expect(report('var a={eval:1};a.eval(2);', 'var w=1;').status).toBe(0);
  });
});
