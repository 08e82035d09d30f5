/** Terminal escape sequences: CSI (`ESC [ … final`), OSC (`ESC ] … BEL|ST`) and two-character ones. */
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?/g;
/** C0 and C1 controls, DEL, and the invisible characters that reorder or hide text (bidi, zero-width). */
const CONTROLS = /[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]+/g;

/**
 * Text from a push service, made safe to show: escape sequences and control characters
 * become a space, lone surrogates go, and the rest is cut to `max` characters. It ends
 * up in `errors[].reason`, logs and the CLI's stderr, where an escape sequence would
 * repaint the operator's terminal.
 */
export function sanitizeText(text: string, max = 200): string {
  const clean = text
    .replace(ESCAPES, ' ')
    .replace(CONTROLS, ' ')
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '')
    .replace(/ {2,}/g, ' ')
    .trim();
  if (clean.length <= max) return clean;
  // Cut between code points, never inside a surrogate pair.
  const cut = /[\ud800-\udbff]/.test(clean[max - 2]!) ? max - 2 : max - 1;
  return `${clean.slice(0, cut)}…`;
}
