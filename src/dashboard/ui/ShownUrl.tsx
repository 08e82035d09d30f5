import { safeLink } from './safeLink.js';

/** A URL from a message or a stranger: a link only when safeLink allows it, else text. */
export function ShownUrl({ url, linkOrigins }: { url: string | undefined; linkOrigins: readonly string[] }) {
  if (url === undefined || url === '') return <span class="muted">none</span>;
  const href = safeLink(url, linkOrigins);
  if (!href) return <code class="url">{url}</code>;
  return (
    <a class="url" href={href} rel="noopener noreferrer" target="_blank">
      {url}
    </a>
  );
}
