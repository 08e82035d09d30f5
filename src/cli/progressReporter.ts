import type { SendStatus } from '../queue/index.js';

/** Where progress goes: process.stdout, or anything that writes text and may be a terminal. */
export interface ProgressOutput {
  isTTY?: boolean;
  write(text: string): unknown;
}

/** The rate is taken over the last this many ms: recent enough to follow a change of pace, long enough to be steady. */
const RATE_WINDOW_MS = 10_000;

/**
 * Shows a send's progress: a bar redrawn in place on a terminal, plain lines (at most one
 * a second, and the last) when the output is a file or a pipe, so logs stay readable.
 * Each shows the share done, the count, the rate over the last seconds and the time left
 * at that rate, and says so while a batch waits for a sender that was lost.
 */
export function progressReporter(out: ProgressOutput, id: string, now: () => number = Date.now) {
  const tty = Boolean(out.isTTY);
  let lastLine = 0;
  let pending: SendStatus | undefined;
  const samples: { at: number; done: number }[] = [];

  const pace = (s: SendStatus, done: number): string => {
    if (s.state !== 'running' && s.state !== 'queued') return '';
    const at = now();
    samples.push({ at, done });
    while (samples.length > 2 && at - samples[1]!.at >= RATE_WINDOW_MS) samples.shift();
    const first = samples[0]!;
    let text = '';
    // A second of history at least, or the first burst reads as a wild rate.
    if (at - first.at >= 1000) {
      const rate = ((done - first.done) * 1000) / (at - first.at);
      text += `, ${Math.round(rate)}/s`;
      if (rate > 0 && s.total !== undefined) text += `, ${duration(((s.total - done) / rate) * 1000)} left`;
    }
    if (s.stalled) text += `, waiting for a lost sender's batch${s.stalled > 1 ? ` (${s.stalled})` : ''}`;
    return text;
  };
  const describe = (s: SendStatus) => {
    const done = s.sent + s.gone + s.failed;
    const share = s.total === undefined ? '' : `${s.total === 0 ? 100 : Math.floor((Math.min(done, s.total) / s.total) * 100)}% `;
    const of = s.total === undefined ? '' : ` of ${s.total}`;
    return `${share}${done}${of} (sent ${s.sent}, gone ${s.gone}, failed ${s.failed}) ${s.state}${pace(s, done)}`;
  };
  const bar = (s: SendStatus) => {
    const width = 30;
    const done = s.sent + s.gone + s.failed;
    // A send queued by an older tidings has no count until its last batch is read: the bar then only counts.
    if (s.total === undefined) return `[${'.'.repeat(width)}] ${describe(s)}`;
    const filled = s.total === 0 ? width : Math.round((Math.min(done, s.total) / s.total) * width);
    return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${describe(s)}`;
  };
  return {
    update(status: SendStatus): void {
      if (tty) {
        out.write(`\r\x1b[2K${bar(status)}`);
        return;
      }
      pending = status;
      const at = now();
      if (at - lastLine >= 1000 || status.state === 'done' || status.state === 'failed') {
        out.write(`progress ${id}: ${describe(status)}\n`);
        lastLine = at;
        pending = undefined;
      }
    },
    end(): void {
      if (tty) out.write('\n');
      else if (pending) out.write(`progress ${id}: ${describe(pending)}\n`);
    },
  };
}

/** `4 s`, `3 min 20 s`, `2 h 5 min`: as precise as a reader of a progress line needs. */
function duration(ms: number): string {
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
