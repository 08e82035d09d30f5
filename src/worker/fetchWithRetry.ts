/** GET `url` with a timeout, once more after a network error, a timeout or a 5xx. */
export async function fetchWithRetry(url: string, timeout: number): Promise<Response> {
  for (let retry = false; ; retry = true) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(timeout) });
      if (response.status < 500 || retry) return response;
    } catch (error) {
      if (retry) throw error;
    }
  }
}
