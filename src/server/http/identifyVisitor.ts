import type { Attributes } from '../../shared/protocol.js';
import { TidingsError } from '../../shared/TidingsError.js';
import { attributeKeyProblem, attributeValueProblem, ownEntries } from '../common/attributeRules.js';
import { requestLimits } from '../common/requestLimits.js';
import type { Identify, RequestContext } from './createHandler.js';

/**
 * Asks the site's `identify` who is registering, and checks its answer: a plain object
 * of attributes (own keys, under the rules of any attribute), `null` or `undefined`.
 * Anything else (a Map, a Date, an array, a class instance, an object that inherits its
 * keys) would be stored as an anonymous subscription without a word, so it is an error:
 * TidingsError `invalid-option` `identify`, which the handler reports to `onError` and
 * answers 500.
 */
export async function identifyVisitor(identify: Identify | undefined, request: Request, context: RequestContext): Promise<Attributes | null | undefined> {
  if (!identify) return undefined;
  const identity: unknown = await identify(request, context);
  if (identity === null || identity === undefined) return identity;
  const refuse = (reason: string): never => {
    throw new TidingsError('invalid-option', { option: 'identify', reason });
  };
  const entries = ownEntries(identity);
  if (!entries) return refuse('must return a plain object of attributes (not a Map, Date, array or class instance, nothing inherited), null or undefined');
  if (entries.length > requestLimits.attributes) refuse(`returned more than ${requestLimits.attributes} attributes`);
  for (const [key, value] of entries) {
    const problem = attributeKeyProblem(key) ?? attributeValueProblem(value);
    if (problem) refuse(`attribute ${JSON.stringify(key)}: ${problem} (values are strings, finite numbers or booleans)`);
  }
  return Object.fromEntries(entries) as Attributes;
}
