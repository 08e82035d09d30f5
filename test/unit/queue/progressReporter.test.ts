import { describe, expect, it } from 'vitest';
import { progressReporter } from '../../../src/cli/progressReporter.js';
import type { SendStatus as Status } from '../../../src/queue/index.js';

const output = (isTTY: boolean) => {
  const writes: string[] = [];
  return { out: { isTTY, write: (text: string) => writes.push(text) }, writes };
};

describe('the progress of tidings send --redis', () => {
  it('draws a bar in place on a terminal, counting until the audience is known', () => {
    const { out, writes } = output(true);
    const progress = progressReporter(out, 'm1');
    const steps: Status[] = [
      { id: 'm1', state: 'running', sent: 10, gone: 0, failed: 0 },
      { id: 'm1', state: 'running', total: 40, sent: 19, gone: 1, failed: 0 },
      { id: 'm1', state: 'done', total: 40, sent: 38, gone: 1, failed: 1 },
    ];
    for (const status of steps) progress.update(status);
    progress.end();
    expect(writes[0]).toBe(`\r\x1b[2K[${'.'.repeat(30)}] 10 (sent 10, gone 0, failed 0) running`);
    expect(writes[1]).toBe(`\r\x1b[2K[${'#'.repeat(15)}${'-'.repeat(15)}] 50% 20 of 40 (sent 19, gone 1, failed 0) running`);
    expect(writes[2]).toBe(`\r\x1b[2K[${'#'.repeat(30)}] 100% 40 of 40 (sent 38, gone 1, failed 1) done`);
    expect(writes[3]).toBe('\n');
  });

  it('prints at most a line a second to a file or pipe, and always the last state', () => {
    const { out, writes } = output(false);
    const progress = progressReporter(out, 'm2');
    for (let sent = 1; sent <= 50; sent++) progress.update({ id: 'm2', state: 'running', sent, gone: 0, failed: 0 });
    progress.update({ id: 'm2', state: 'done', total: 51, sent: 51, gone: 0, failed: 0 });
    progress.end();
    expect(writes).toEqual(['progress m2: 1 (sent 1, gone 0, failed 0) running\n', 'progress m2: 51 of 51 (sent 51, gone 0, failed 0) done\n']);
  });
});
