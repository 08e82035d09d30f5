import { EVENT_TYPES, type EventType, type EventsRequest, type TidingsEvent } from '../../shared/protocol.js';
import { requestLimits } from '../common/requestLimits.js';
import { fail, isRecord } from '../common/invalidRequest.js';

/** Turns an untrusted `POST /events` body into typed events, or throws TidingsError `invalid-request`. */
export function validateEventsRequest(body: unknown): EventsRequest {
  if (!isRecord(body)) fail('body', 'not-object');
  const list = body.events;
  if (!Array.isArray(list)) fail('events', 'not-array');
  if (list.length > requestLimits.events) fail('events', 'too-many');
  const request: EventsRequest = { events: list.map((item: unknown, i) => event(item, `events[${i}]`)) };
  // The subscription the worker signs for (see verifyEvents); unsigned requests have none.
  if (body.subscription !== undefined) request.subscription = text(body.subscription, 'subscription', requestLimits.eventId);
  return request;
}

function event(value: unknown, field: string): TidingsEvent {
  if (!isRecord(value)) fail(field, 'not-object');
  const type = value.type;
  if (!EVENT_TYPES.includes(type as EventType)) fail(`${field}.type`, 'unknown-type');
  const out: TidingsEvent = {
    id: text(value.id, `${field}.id`, requestLimits.eventId),
    type: type as EventType,
    at: count(value.at, `${field}.at`),
  };
  if (value.messageId !== undefined) out.messageId = text(value.messageId, `${field}.messageId`, requestLimits.eventId);
  if (value.action !== undefined) out.action = text(value.action, `${field}.action`, requestLimits.eventId);
  if (value.reason !== undefined) out.reason = text(value.reason, `${field}.reason`, requestLimits.eventText);
  if (value.dropped !== undefined) out.dropped = count(value.dropped, `${field}.dropped`);
  return out;
}

function text(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string') fail(field, 'not-string');
  if (value.length === 0) fail(field, 'empty');
  if (value.length > max) fail(field, 'too-long');
  return value;
}

function count(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) fail(field, 'not-non-negative-number');
  return value;
}
