import { TidingsError } from '../shared/TidingsError.js';

/**
 * Loads an optional peer dependency (`pg`, `bullmq`) when a feature first needs it, so
 * importing an entry costs nothing and a site that does not use the feature need not
 * install the package. A missing package fails with `missing-dependency`, naming it and
 * the command that installs it.
 */
export async function importPeer<T>(name: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new TidingsError('missing-dependency', { package: name, reason: `${name} is not installed (npm install ${name})`, cause });
    }
    throw cause;
  }
}
