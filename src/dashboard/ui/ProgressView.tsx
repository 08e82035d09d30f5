import type { Progress } from '../protocol.js';
import { formatNumber, formatTime } from './format.js';

/** A send that has not finished: its counts so far, and a progress bar once the number it is to reach is known. */
export function ProgressView({ progress: p }: { progress: Progress }) {
  const done = p.sent + p.gone + p.failed + p.capped;
  return (
    <div class="progress" aria-live="polite">
      <p>
        <span class={`state state-${p.state}`}>{p.state}</span> {formatNumber(done)}
        {p.expected !== undefined && <> of {formatNumber(p.expected)}</>} done: {formatNumber(p.sent)} sent, {formatNumber(p.gone)} gone, {formatNumber(p.failed)} failed,{' '}
        {formatNumber(p.capped)} capped, {formatNumber(p.deferred)} deferred.
      </p>
      {p.expected !== undefined && p.expected > 0 && <progress max={p.expected} value={Math.min(done, p.expected)} aria-label="Sent so far" />}
      {p.overdueSince !== undefined && (
        <p class="notice error" role="alert">
          {p.state === 'scheduled'
            ? `Overdue since ${formatTime(p.overdueSince)}: its time came and no scheduler has started it (createPushServer({ scheduler: true }) runs one).`
            : `Overdue since ${formatTime(p.overdueSince)}: the process sending it was to write its progress by then and has not, so it has most likely stopped. A plain send() is not taken over by another process (a scheduled one is, by any running scheduler); cancel it to close it.`}
        </p>
      )}
      {p.error !== undefined && (
        <p class="notice error" role="alert">
          {p.error}
        </p>
      )}
    </div>
  );
}
