import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { installProject, type InstalledProject } from '../../scripts/footprint.mjs';
import { CHROMIUM_PATH } from '../e2e/support/chromium.js';

// docs/testing.md, "Chromium with Playwright": its example, taken from the docs as they
// ship, run with node in a fresh project outside the repository that installed the packed
// tarball and what the docs say to install beside it, against real Chromium.

/** The first js block under `heading` in a markdown text. */
function exampleUnder(markdown: string, heading: string): string {
  const section = markdown.slice(markdown.indexOf(`\n${heading}\n`));
  const block = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  if (!section || !block) throw new Error(`no js example under ${heading}`);
  return block;
}

describe("docs/testing.md's Chromium example, from the packed package", () => {
  let app: InstalledProject;

  beforeAll(() => {
    // The same playwright-core as the repository's (from npm's cache when it has it).
    const playwright = JSON.parse(readFileSync('node_modules/playwright-core/package.json', 'utf8')).version;
    app = installProject('testing-app', [inject('tarball'), `playwright-core@${playwright}`, 'web-push@3', 'ws@8']);
  }, 300_000);
  afterAll(() => {
    if (app) rmSync(app.dir, { recursive: true, force: true });
  });

  it('subscribes, pushes, shows and clicks, as the docs say it does', async () => {
    const example = exampleUnder(readFileSync(join(app.dir, 'node_modules/tidings/docs/testing.md'), 'utf8'), '## Chromium with Playwright');
    writeFileSync(join(app.dir, 'push.e2e.mjs'), example);
    const { stdout } = await promisify(execFile)(process.execPath, ['push.e2e.mjs'], {
      cwd: app.dir,
      env: { ...process.env, CHROMIUM_PATH },
      timeout: 90_000,
    });
    expect(stdout.trim()).toBe('subscribed, pushed, shown and clicked');
  }, 120_000);
});
