import type { Envelope } from '../shared/protocol.js';
import type { PushStats, SendRecord, SendTarget } from './statsContract.js';
import type { Control } from './protocol.js';
import type { RequestInfo } from '../server/http/createHandler.js';
import type { SendStatus } from '../queue/queueTypes.js';

export type { RequestInfo };

/**
 * The push object the dashboard reads and sends through: `createPushServer(…)`. Only
 * `send` is required; each other member turns on the part of the dashboard that needs it
 * (see docs/dashboard.md), and a missing one hides that part instead of faking it.
 */
export interface DashboardPush {
  send(envelope: Envelope, options?: Record<string, unknown>): Promise<{ id: string }>;
  /** The send log, funnels and counts (issue 19). */
  stats?: PushStats;
  /** How many subscriptions `to` reaches. */
  count?(to?: SendTarget): Promise<number>;
  /** A send's record now (issue 21). */
  status?(id: string): Promise<SendRecord | undefined>;
  /** Stops a scheduled or running send (issue 21). */
  cancel?(id: string): Promise<SendRecord | undefined>;
  /** The sending controls `send()` takes (issue 21): 'at', 'localTime', 'perSecond', 'cap'… */
  controls?: readonly string[];
}

/** A queued send's live counts, as `createSendQueue(…).status(id)` reads them from Redis. */
export type QueueStatus = SendStatus;

/**
 * `createSendQueue(…)`: when given, compose sends through it. A queued send's page shows
 * its row of the send log (`stats`, which the queue's senders keep up to date batch by
 * batch) with the live counts `status(id)` reads from Redis while it runs.
 */
export interface DashboardQueue {
  send(envelope: Envelope, options?: Record<string, unknown>): Promise<{ id: string; scheduledAt?: number }>;
  status(id: string): Promise<QueueStatus>;
  /** Stops a queued send (the cancel button). */
  cancel?(id: string): Promise<QueueStatus | undefined>;
  /** The send log of the queue's store. */
  stats: PushStats;
  /** The sending controls its `send()` takes. */
  controls?: readonly string[];
}

/** Who is looking, as `authorize` names them. */
export interface Viewer {
  /**
   * Shown in the header and recorded as the send's `by`. Any text: the dashboard keeps a
   * safe form of it (trimmed, control and invisible characters replaced by spaces, cut to
   * 200 characters; `(unnamed)` when nothing is left), so a name never fails a send.
   */
  name: string;
  /**
   * The viewer's own subscriptions, for "send a test to yourself": the `to` that reaches
   * them (`{ attributes: { user: '42' } }`, as your `identify` stores it). Without it the
   * test button is not shown.
   */
  audience?: SendTarget;
}

/** What is being asked for, so `authorize` can let some people read and not send. */
export interface AuthorizeContext {
  /** `page`: an HTML page; `asset`: its script or style; `data`: JSON it reads; `action`: a send, a test send or a cancel. */
  kind: 'page' | 'asset' | 'data' | 'action';
  action?: 'send' | 'test' | 'cancel';
  info: RequestInfo;
}

/**
 * Says who may use the dashboard, for every request it gets (pages, assets, data,
 * actions). Return the viewer (or just a name); `null` when the request carries no
 * credentials (401); `false` when it does but they are not enough (403); or a `Response`
 * to answer with (a redirect to your login page, a `WWW-Authenticate` challenge).
 */
export type Authorize = (
  request: Request,
  context: AuthorizeContext,
) => Viewer | string | null | false | Response | Promise<Viewer | string | null | false | Response>;

export interface DashboardOptions {
  /** The push server to read and send through (`createPushServer(…)`). */
  push: DashboardPush;
  /** A send queue (`createSendQueue(…)`): compose then sends through it, with live progress. */
  queue?: DashboardQueue;
  /** Required: who may look and act. There is no default that lets anyone in. */
  authorize: Authorize;
  /** The public path the dashboard is reached at: its pages, assets and data URLs start with it. @default '/dashboard' */
  basePath?: string;
  /**
   * The path prefix of the requests the handler is given, when a framework strips part
   * of `basePath` first (Hono's `app.mount`: `''`). @default basePath
   */
  routePath?: string;
  /** Other origins whose pages may POST to the dashboard (as `createPushServer`'s). @default [] (same site only) */
  allowedOrigins?: string[];
  /**
   * Origins whose http(s) URLs (a message's `url`, icons) are shown as links; any other
   * URL is shown as text. The dashboard's own origin is always linked. @default []
   */
  linkOrigins?: string[];
  /** The attribute that names a person, for the Audience page's search. @default 'user' */
  identityAttribute?: string;
  /** Attribute keys the Audience page offers to count by (any other can be typed). @default [] */
  attributes?: string[];
  /**
   * Interaction rate (clicks and closes per notification shown) under which the overview
   * warns that Chrome may revoke the permission. Chrome publishes no threshold; its
   * October 2025 announcement says under 1% of notifications get any interaction.
   * @default 0.01
   */
  engagementWarning?: number;
  /** Largest request body read; larger gets 413. @default 65536 */
  maxBodyBytes?: number;
  /** Called with errors answered with 500 (a throwing `authorize`, a store failure). @default console.error */
  onError?: (error: unknown) => void;
}

export interface Dashboard {
  /** The dashboard as one Fetch-API function; mount it like `push.handler`. */
  handler(request: Request, info?: RequestInfo): Promise<Response>;
}

export type { Control };
