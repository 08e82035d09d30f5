import { ApiError } from './api.js';

/** What a page shows while its data loads, or why it could not. */
export function Status({ loading, error }: { loading: boolean; error?: unknown }) {
  if (error !== undefined) {
    const status = error instanceof ApiError ? error.status : undefined;
    const text =
      status === 401 || status === 403
        ? 'You are not allowed to see this (the dashboard answered ' + status + ').'
        : status === 404
          ? 'Nothing is known under this address.'
          : 'The data could not be loaded: ' + (error instanceof Error ? error.message : String(error));
    return (
      <p class="notice error" role="alert">
        {text}
      </p>
    );
  }
  if (loading) return <p class="muted" aria-live="polite">Loading…</p>;
  return null;
}
