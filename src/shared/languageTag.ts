/**
 * A well-formed BCP 47 language tag in its canonical case (`pt-br` -> `pt-BR`), or
 * undefined. Extensions (`-u-…`) are dropped: they say how to format numbers and dates,
 * not which text to pick. The server checks `locales` and the `language` attribute with
 * it, and the dashboard's Compose page the languages typed into it.
 */
export function languageTag(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 35 || !/^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/.test(value)) return undefined;
  try {
    const [tag] = Intl.getCanonicalLocales(value);
    return tag?.replace(/-[a-wyz]-.*$/i, '');
  } catch {
    return undefined;
  }
}
