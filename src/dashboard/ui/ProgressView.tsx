import type { Progress } from '../protocol.js';
import { formatNumber } from './format.js';

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
      {p.error !== undefined && (
        <p class="notice error" role="alert">
          {p.error}
        </p>
      )}
    </div>
  );
}
