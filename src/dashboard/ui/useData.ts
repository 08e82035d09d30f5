import { useCallback, useEffect, useState } from 'preact/hooks';
import type { Answer, Session } from '../protocol.js';

export interface Loaded<T> {
  data?: T;
  error?: unknown;
  loading: boolean;
  /** Loads again (after a send, for progress). */
  reload(): void;
}

/**
 * Loads a page's data (one request) whenever `key` changes, and hands the session it
 * carries to `onSession` (the header shows who is looking). A late answer for an old key
 * is dropped, so a fast click through pages never shows the wrong page's data.
 */
export function useData<T>(key: string, load: () => Promise<Answer<T>>, onSession: (session: Session) => void): Loaded<T> {
  const [state, setState] = useState<{ key: string; data?: T; error?: unknown }>({ key: '' });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    let current = true;
    load().then(
      (answer) => {
        if (!current) return;
        onSession(answer.session);
        setState({ key, data: answer.data });
      },
      (error: unknown) => current && setState({ key, error }),
    );
    return () => {
      current = false;
    };
  }, [key, generation]);
  const reload = useCallback(() => setGeneration((n) => n + 1), []);
  const fresh = state.key === key;
  return { data: fresh ? state.data : undefined, error: fresh ? state.error : undefined, loading: !fresh, reload };
}
