/** Escapes text for an HTML attribute value in double quotes. */
function attribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * The one HTML document every page URL answers with: no data and no inline code, only the
 * hashed script and style, and the base path the script reads its data under. The script
 * renders the page the URL names, so each page can be bookmarked.
 */
export function pageShell(basePath: string, script: string, style: string, icon: string): string {
  const base = attribute(basePath);
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light dark">',
    '<meta name="referrer" content="no-referrer">',
    '<title>tidings dashboard</title>',
    `<link rel="icon" href="${base}/assets/${attribute(icon)}" type="image/svg+xml">`,
    `<link rel="stylesheet" href="${base}/assets/${attribute(style)}">`,
    `<script type="module" src="${base}/assets/${attribute(script)}"></script>`,
    '</head>',
    `<body><div id="app" data-base="${base}"><noscript>The tidings dashboard needs JavaScript.</noscript></div></body>`,
    '</html>',
    '',
  ].join('\n');
}
