import { describe, expect, it } from 'vitest';
import { progressReporter } from '../../../src/cli/progressReporter.js';
import type { SendStatus as Status } from '../../../src/queue/index.js';

const output = (isTTY: boolean) => {
  const writes: string[] = [];
  return { out: { isTTY, write: (text: string) => writes.push(text) }, writes };
};
const clock = () => {
  const c = { now: 1_700_000_000_000, tick: (ms: number) => void (c.now += ms), read: () => c.now };
  return c;
};

describe('the progress of tidings send --redis', () => {
  it('draws a bar in place on a terminal: percent, count, rate and time left', () => {
    const { out, writes } = output(true);
    const time = clock();
    const progress = progressReporter(out, 'm1', time.read);
    progress.update({ id: 'm1', state: 'queued', total: 400, sent: 0, gone: 0, failed: 0 });
    time.tick(2000);
    progress.update({ id: 'm1', state: 'running', total: 400, sent: 190, gone: 10, failed: 0 });
    time.tick(1000);
    progress.update({ id: 'm1', state: 'done', total: 400, sent: 380, gone: 10, failed: 10 });
    progress.end();
    expect(writes[0]).toBe(`\r\x1b[2K[${'-'.repeat(30)}] 0% 0 of 400 (sent 0, gone 0, failed 0) queued`);
    expect(writes[1]).toBe(`\r\x1b[2K[${'#'.repeat(15)}${'-'.repeat(15)}] 50% 200 of 400 (sent 190, gone 10, failed 0) running, 100/s, 2 s left`);
    expect(writes[2]).toBe(`\r\x1b[2K[${'#'.repeat(30)}] 100% 400 of 400 (sent 380, gone 10, failed 10) done`);
    expect(writes[3]).toBe('\n');
  });

  it('takes the rate over the last ten seconds, so the time left follows a change of pace', () => {
    const { out, writes } = output(true);
    const time = clock();
    const progress = progressReporter(out, 'm', time.read);
    const at = (sent: number) => progress.update({ id: 'm', state: 'running', total: 100_000, sent, gone: 0, failed: 0 });
    // 1,000 a second for 20 s, then 100 a second.
    for (let s = 0; s <= 20; s++, time.tick(1000)) at(s * 1000);
    expect(writes.at(-1)).toMatch(/ 1000\/s, 1 min 20 s left$/);
    for (let s = 1; s <= 20; s++, time.tick(1000)) at(20_000 + s * 100);
    expect(writes.at(-1)).toMatch(/ 100\/s, 13 min 0 s left$/);
  });

  it('says so while a batch waits for a sender that was lost', () => {
    const { out, writes } = output(false);
    const time = clock();
    const progress = progressReporter(out, 'm3', time.read);
    progress.update({ id: 'm3', state: 'running', total: 50, sent: 10, gone: 0, failed: 0 });
    time.tick(1500);
    progress.update({ id: 'm3', state: 'running', total: 50, sent: 10, gone: 0, failed: 0, stalled: 1 });
    time.tick(1500);
    progress.update({ id: 'm3', state: 'running', total: 50, sent: 25, gone: 0, failed: 0, stalled: 2 });
    expect(writes[1]).toBe("progress m3: 20% 10 of 50 (sent 10, gone 0, failed 0) running, 0/s, waiting for a lost sender's batch\n");
    expect(writes[2]).toBe("progress m3: 50% 25 of 50 (sent 25, gone 0, failed 0) running, 5/s, 5 s left, waiting for a lost sender's batch (2)\n");
  });

  it('prints at most a line a second to a file or pipe, and always the last state', () => {
    const { out, writes } = output(false);
    const time = clock();
    const progress = progressReporter(out, 'm2', time.read);
    time.tick(5000);
    for (let sent = 1; sent <= 50; sent++, time.tick(10)) progress.update({ id: 'm2', state: 'running', total: 51, sent, gone: 0, failed: 0 });
    progress.update({ id: 'm2', state: 'done', total: 51, sent: 51, gone: 0, failed: 0 });
    progress.end();
    expect(writes).toEqual(['progress m2: 1% 1 of 51 (sent 1, gone 0, failed 0) running\n', 'progress m2: 100% 51 of 51 (sent 51, gone 0, failed 0) done\n']);
  });

  it('counts without a bar for a send queued by tidings 0.1.0, whose total comes with its last batch', () => {
    const { out, writes } = output(true);
    const progress = progressReporter(out, 'm4', () => 0);
    progress.update({ id: 'm4', state: 'running', sent: 10, gone: 0, failed: 0 });
    expect(writes[0]).toBe(`\r\x1b[2K[${'.'.repeat(30)}] 10 (sent 10, gone 0, failed 0) running`);
  });
});
