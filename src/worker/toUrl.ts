declare const self: ServiceWorkerGlobalScope;

/** Parses `raw` against the worker's URL; undefined where it is not a URL. (URL.canParse is missing in Safari 16.) */
export function toUrl(raw: string, base = self.location.href): URL | undefined {
  try {
    return new URL(raw, base);
  } catch {
    return undefined;
  }
}
