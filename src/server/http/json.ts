import { fail } from '../common/invalidRequest.js';
import { readBodyBytes } from './readBody.js';

/** A JSON answer. */
export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

/** 405 with the methods the route allows. */
export function notAllowed(allow: string): Response {
  const response = json(405, { error: 'method-not-allowed' });
  response.headers.set('allow', allow);
  return response;
}

/**
 * Reads a JSON body. Only `application/json` is read: a form, `text/plain` or a body
 * with no type is what a cross-site form or a "simple" fetch sends without a preflight.
 */
export async function readJson(request: Request, limit: number): Promise<unknown> {
  return (await readJsonBytes(request, limit)).value;
}

/** readJson, with the body's bytes as they came (for a signature over them). */
export async function readJsonBytes(request: Request, limit: number): Promise<{ value: unknown; bytes: Buffer }> {
  const type = request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') fail('content-type', 'not-json-content-type');
  const bytes = await readBodyBytes(request, limit);
  try {
    return { value: JSON.parse(bytes.toString('utf8')) as unknown, bytes };
  } catch {
    return fail('body', 'json');
  }
}
