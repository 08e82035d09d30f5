import type { Progress } from '../protocol.js';
import { formatNumber } from './format.js';

/** A running send: a progress bar once the audience's size is known, and its counts. */
export function ProgressView({ progress: p }: { progress: Progress }) {
  const done = p.sent + p.gone + p.failed + (p.capped ?? 0);
  return (
    <div class="progress" aria-live="polite">
      <p>
        <span class={`state state-${p.state}`}>{p.state}</span> {formatNumber(done)}
        {p.targeted !== undefined && <> of {formatNumber(p.targeted)}</>} done: {formatNumber(p.sent)} sent, {formatNumber(p.gone)} gone, {formatNumber(p.failed)} failed
        {p.capped !== undefined && <>, {formatNumber(p.capped)} capped</>}
        {p.deferred !== undefined && <>, {formatNumber(p.deferred)} deferred</>}.
      </p>
      {p.targeted !== undefined && p.targeted > 0 && <progress max={p.targeted} value={Math.min(done, p.targeted)} aria-label="Sent so far" />}
      {p.error !== undefined && (
        <p class="notice error" role="alert">
          {p.error}
        </p>
      )}
    </div>
  );
}
