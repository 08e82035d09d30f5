/** Terminal escape sequences: CSI (`ESC [ … final`), OSC (`ESC ] … BEL|ST`) and two-character ones. */
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?/g;
/**
 * What can hide, reorder or fake text, by Unicode's own classes rather than a list that
 * misses the next one: controls (Cc), format characters (Cf: every bidi mark, embedding,
 * override and isolate, U+061C, soft hyphen, zero-width and word joiners, U+180E, tags),
 * line and paragraph separators (Zl, Zp), spaces other than the space (Zs), private-use
 * and unassigned code points (Co, Cn), and whatever Unicode says renders as nothing
 * (Default_Ignorable_Code_Point: variation selectors, Hangul fillers, ...).
 */
const HIDING = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Zs}\p{Co}\p{Cn}\p{Default_Ignorable_Code_Point}]+/gu;

/**
 * Text from a push service, made safe to show: escape sequences and characters that can
 * hide or reorder text become a space, lone surrogates go, and the rest is cut to `max`
 * characters. It ends up in `errors[].reason`, logs and the CLI's stderr, where an escape
 * sequence would repaint the operator's terminal and a bidi override would turn a reason
 * around.
 */
export function sanitizeText(text: string, max = 200): string {
  const clean = text
    .replace(ESCAPES, ' ')
    .replace(HIDING, ' ')
    // With the u flag a surrogate matches alone only when it is unpaired.
    .replace(/\p{Cs}/gu, '')
    .replace(/ {2,}/g, ' ')
    .trim();
  if (clean.length <= max) return clean;
  // Cut between code points, never inside a surrogate pair.
  const cut = /[\ud800-\udbff]/.test(clean[max - 2]!) ? max - 2 : max - 1;
  return `${clean.slice(0, cut)}…`;
}
