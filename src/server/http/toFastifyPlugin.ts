import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestContext, RequestInfo } from './createHandler.js';
import { nodeAdapter, type NodeHandlerOptions } from './toNodeHandler.js';

/** The few Fastify calls the plugin makes, so tidings' types need no `fastify` package. */
export interface FastifyScope {
  removeAllContentTypeParsers(): void;
  addContentTypeParser(type: string, parser: (request: unknown, payload: unknown, done: (error: Error | null, body?: unknown) => void) => void): void;
  all(path: string, handler: (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<void>): void;
}

/** What the plugin reads of Fastify's request; `identify` gets all of it (`request.session`…) as `context.request`. */
export interface FastifyRequestLike {
  raw: IncomingMessage;
}

export interface FastifyReplyLike {
  raw: ServerResponse;
  hijack(): void;
}

/**
 * The handler as a Fastify plugin: `app.register(toFastifyPlugin(push.handler), { prefix: '/api/push' })`.
 * The plugin's own scope reads bodies raw (Fastify's JSON parser would drain them, and
 * would answer other content types before tidings could refuse them with its 415).
 * `identify` gets `{ request, reply }` as its context: Fastify's own objects.
 */
export function toFastifyPlugin(
  handler: (request: Request, info?: RequestInfo) => Promise<Response>,
  options: NodeHandlerOptions = {},
): (fastify: FastifyScope) => Promise<void> {
  const node = nodeAdapter(handler, options);
  return async (fastify) => {
    fastify.removeAllContentTypeParsers();
    fastify.addContentTypeParser('*', (_request, _payload, done) => done(null));
    const route = async (request: FastifyRequestLike, reply: FastifyReplyLike) => {
      // tidings writes the answer itself, on the raw response.
      reply.hijack();
      await node(request.raw, reply.raw, undefined, { request: request as RequestContext['request'], reply });
    };
    fastify.all('/', route);
    fastify.all('/*', route);
  };
}
