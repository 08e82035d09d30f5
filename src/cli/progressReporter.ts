import type { SendStatus } from '../queue/index.js';

/** Where progress goes: process.stdout, or anything that writes text and may be a terminal. */
export interface ProgressOutput {
  isTTY?: boolean;
  write(text: string): unknown;
}

/**
 * Shows a send's progress: a bar redrawn in place on a terminal, plain lines (at most one
 * a second, and the last) when the output is a file or a pipe, so logs stay readable.
 */
export function progressReporter(out: ProgressOutput, id: string) {
  const tty = Boolean(out.isTTY);
  let lastLine = 0;
  let pending: SendStatus | undefined;
  const describe = (s: SendStatus) => {
    const done = s.sent + s.gone + s.failed;
    const of = s.total === undefined ? '' : ` of ${s.total}`;
    return `${done}${of} (sent ${s.sent}, gone ${s.gone}, failed ${s.failed}) ${s.state}`;
  };
  const bar = (s: SendStatus) => {
    const width = 30;
    const done = s.sent + s.gone + s.failed;
    // Until the last batch is read the audience is not known: the bar then only counts.
    if (s.total === undefined) return `[${'.'.repeat(width)}] ${describe(s)}`;
    const share = s.total === 0 ? 1 : done / s.total;
    const filled = Math.round(share * width);
    return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.floor(share * 100)}% ${describe(s)}`;
  };
  return {
    update(status: SendStatus): void {
      if (tty) {
        out.write(`\r\x1b[2K${bar(status)}`);
        return;
      }
      pending = status;
      const now = Date.now();
      if (now - lastLine >= 1000 || status.state === 'done' || status.state === 'failed') {
        out.write(`progress ${id}: ${describe(status)}\n`);
        lastLine = now;
        pending = undefined;
      }
    },
    end(): void {
      if (tty) out.write('\n');
      else if (pending) out.write(`progress ${id}: ${describe(pending)}\n`);
    },
  };
}
