// A queued send that goes in slices (local time, quiet hours) keeps each slice in the
// ledger as a send of its own, named after the send: `{id}\u0000{s}`. Message ids cannot
// hold U+0000 in the queue (send() refuses them), so no send's id is ever a slice's.

export const SLICE_MARK = '\u0000';

export function sliceId(id: string, s: number): string {
  return `${id}${SLICE_MARK}${s}`;
}

/** The send a ledger id belongs to: the id itself, or the send of a slice. */
export function sendOf(id: string): string {
  const mark = id.indexOf(SLICE_MARK);
  return mark === -1 ? id : id.slice(0, mark);
}
