import type {
  Answer,
  AudienceData,
  CancelAnswer,
  ComposeData,
  CountAnswer,
  MessageData,
  MessagesData,
  OverviewData,
  SendAnswer,
  SendRequest,
  TestRequest,
} from '../protocol.js';

/** A data URL answered with something else than 2xx. `body` is its JSON, when it had some. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: { error?: string; field?: string; reason?: string; audience?: number | null } | undefined,
  ) {
    super(`${status} ${body?.error ?? ''} ${body?.field ?? ''} ${body?.reason ?? ''}`.trim());
  }
}

async function request<T>(url: string, init?: RequestInit): Promise<T> {
  const response = await fetch(url, { credentials: 'same-origin', cache: 'no-store', ...init });
  const body = (await response.json().catch(() => undefined)) as unknown;
  if (!response.ok) throw new ApiError(response.status, body as ApiError['body']);
  return body as T;
}

/** The one file that knows every data URL: each page's data, and the POSTs. */
export function createApi(base: string) {
  const api = `${base}/api`;
  const get = <T>(path: string, query: Record<string, string | undefined> = {}) => {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, value);
    const search = params.toString();
    return request<Answer<T>>(`${api}${path}${search ? `?${search}` : ''}`);
  };
  const post = <T>(path: string, body: unknown) =>
    request<T>(`${api}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const id = (value: string) => encodeURIComponent(value);

  return {
    overview: (range?: string) => get<OverviewData>('/overview', { range }),
    messages: (after?: string) => get<MessagesData | null>('/messages', { after }),
    message: (messageId: string) => get<MessageData>(`/messages/${id(messageId)}`),
    audience: (query: { by?: string; key?: string; value?: string; after?: string }) => get<AudienceData>('/audience', query),
    compose: () => get<ComposeData>('/compose'),
    count: (to: SendRequest['to']) => post<CountAnswer>('/count', { to }),
    /** 409 (ApiError, `body.audience`): confirm that size and send again. */
    send: (body: SendRequest) => post<SendAnswer>('/send', body),
    test: (body: TestRequest) => post<SendAnswer>('/test', body),
    cancel: (messageId: string) => post<CancelAnswer>(`/messages/${id(messageId)}/cancel`, {}),
  };
}

export type Api = ReturnType<typeof createApi>;
