import type { Envelope, EnvelopeNotification, JsonValue } from '../../shared/protocol.js';
import { validateEnvelope } from '../../shared/validateEnvelope.js';
import { ownEntries } from '../common/attributeRules.js';
import { invalidOption as invalid } from '../common/checkOptions.js';
import { languageTag } from '../../shared/languageTag.js';

/** What one language changes of the envelope: fields of its notification, and its data. */
export interface LocaleOverride {
  /** Merged over the envelope's notification, field by field (`title`, `body`, `actions`…). */
  notification?: EnvelopeNotification;
  /** Replaces the envelope's `data`. */
  data?: JsonValue;
}

/** Languages one send may carry. */
export const MAX_LOCALES = 100;

/**
 * Checks `locales` against the (validated) envelope and returns each language's own
 * envelope, keyed by canonical tag: the envelope with the language's notification fields
 * merged in and its data, validated as a whole (so a bad title in one language is a
 * clear `invalid-option` now, not a failed push later). Throws `invalid-option`.
 */
export function localizedEnvelopes(locales: unknown, envelope: Envelope): Record<string, Envelope> {
  const entries = ownEntries(locales);
  if (!entries) return invalid('locales', 'must be an object of language tags ({ fr: { notification: { title } } })');
  if (entries.length === 0) invalid('locales', 'is empty');
  if (entries.length > MAX_LOCALES) invalid('locales', `has more than ${MAX_LOCALES} languages`);
  const out: Record<string, Envelope> = {};
  for (const [key, value] of entries) {
    const tag = languageTag(key);
    if (!tag) invalid(`locales.${JSON.stringify(key)}`, 'is not a BCP 47 language tag (fr, pt-BR)');
    if (Object.hasOwn(out, tag)) invalid(`locales.${key}`, `names ${tag} a second time`);
    const parts = ownEntries(value);
    if (!parts) invalid(`locales.${key}`, 'must be an object with notification and/or data');
    const localized: Envelope = { ...envelope };
    for (const [part, given] of parts) {
      if (part === 'notification') {
        if (!ownEntries(given)) invalid(`locales.${key}.notification`, 'must be an object');
        localized.notification = { ...envelope.notification, ...(given as EnvelopeNotification) };
      } else if (part === 'data') {
        localized.data = given as JsonValue;
      } else {
        invalid(`locales.${key}.${part}`, 'is not something a language changes (notification, data)');
      }
    }
    try {
      out[tag] = validateEnvelope(localized);
    } catch (cause) {
      const { field, reason } = (cause as { details?: { field?: string; reason?: string } }).details ?? {};
      invalid(`locales.${key}${field ? `.${field}` : ''}`, reason ?? 'invalid');
    }
  }
  return out;
}

/**
 * The language of `tags` that best serves a subscriber's `language` (RFC 4647 lookup):
 * the tag itself, then shorter and shorter (`zh-Hant-TW`, `zh-Hant`, `zh`). Undefined
 * when none fits: the subscriber gets the envelope as given.
 */
export function bestLanguage(language: unknown, tags: ReadonlySet<string>): string | undefined {
  let tag = languageTag(language);
  while (tag) {
    if (tags.has(tag)) return tag;
    const cut = tag.lastIndexOf('-');
    tag = cut > 0 ? tag.slice(0, cut) : undefined;
  }
  return undefined;
}
