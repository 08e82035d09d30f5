/** Bounds on what the backend accepts from browsers. Anything past them is a 400 (or 413 for the body). */
export const requestLimits = {
  /** Bytes of one request body. */
  body: 64 * 1024,
  /** Characters of a subscription endpoint URL. */
  endpoint: 2048,
  attributes: 32,
  attributeKey: 64,
  attributeValue: 256,
  /** Events in one `POST /events`. */
  events: 100,
  eventId: 128,
  eventText: 1024,
} as const;
