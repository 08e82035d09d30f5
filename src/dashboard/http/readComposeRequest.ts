import { fail, isRecord } from '../../server/common/invalidRequest.js';
import type { Envelope } from '../../shared/protocol.js';
import { validateEnvelope } from '../../shared/validateEnvelope.js';
import { checkSendControls } from '../../server/controls/sendControls.js';
import { localizedEnvelopes } from '../../server/controls/locales.js';
import type { SendOptions } from '../../server/send/sendTypes.js';
import type { Audience, ComposeOptions, Control } from '../protocol.js';

export interface ComposeRequest {
  envelope: Envelope;
  /** undefined: everyone. */
  to: Audience | undefined;
  options: ComposeOptions;
  confirm: number | null | undefined;
}

/** Options every push object takes; the controls only when it declares them. */
const ALWAYS = ['ttl', 'urgency'];

/**
 * Checks the body of a send or test send: a valid envelope and valid sending controls
 * (the checks `send()` runs, so a bad title, time or language is a 400 naming it before
 * the viewer is asked to confirm), an audience object or null, only the options this push
 * object offers, and the confirmed size. `withAudience: false` (a test send) refuses a `to`.
 */
export function readComposeRequest(body: unknown, controls: readonly Control[], withAudience: boolean): ComposeRequest {
  if (!isRecord(body)) fail('body', 'not-object');
  const envelope = validateEnvelope(body.envelope);
  let to: Audience | undefined;
  if (body.to !== undefined && body.to !== null) {
    if (!withAudience) fail('to', 'not-allowed');
    if (!isRecord(body.to)) fail('to', 'not-audience');
    to = body.to as Audience;
  }
  const options: Record<string, unknown> = {};
  if (body.options !== undefined) {
    if (!isRecord(body.options)) fail('options', 'not-object');
    for (const [key, value] of Object.entries(body.options)) {
      if (!ALWAYS.includes(key) && !controls.includes(key as Control)) fail(`options.${key}`, 'not-offered');
      if (value !== undefined && value !== null) options[key] = value;
    }
  }
  // send() checks them again; here they are checked before anything is counted or asked.
  checkSendControls(options as SendOptions, Date.now(), undefined);
  if (options.locales !== undefined) localizedEnvelopes(options.locales, envelope);
  const confirm = body.confirm;
  if (confirm !== undefined && confirm !== null && !(Number.isSafeInteger(confirm) && (confirm as number) >= 0)) fail('confirm', 'not-count');
  return { envelope, to, options: options as ComposeOptions, confirm: confirm as number | null | undefined };
}
