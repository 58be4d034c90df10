// Every call the console makes goes through here: the public API, on this origin, with the key
// the user pasted. The API's own error message is what the user sees.

/** The API root: the console lives at <root>/console/, whatever sub-path an ingress adds. */
export const API_ROOT = new URL('../', location.href);

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
  }
  /** 401/403: the key is wrong for this, which sends the user back to the key prompt. */
  get isAuth(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

let currentKey: string | null = null;
let onAuthError: (e: ApiError) => void = () => undefined;

export function setKey(key: string | null): void {
  currentKey = key;
}
export function setAuthErrorHandler(fn: (e: ApiError) => void): void {
  onAuthError = fn;
}

export type Query = Record<string, string | number | boolean | null | undefined | string[]>;

export function apiUrl(path: string, query?: Query): URL {
  const url = new URL(path.replace(/^\//, ''), API_ROOT);
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) for (const one of v) url.searchParams.append(k, one);
    else url.searchParams.set(k, String(v));
  }
  return url;
}

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
  /** Use this key instead of the session's (the key prompt checks a key before keeping it). */
  key?: string;
  /** Do not send 401/403 to the key prompt (the caller shows them itself). */
  quietAuth?: boolean;
}

/** The message of an API error body ({ message, ... }), or a description of a non-JSON answer. */
export function messageOf(status: number, text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown };
    if (typeof body?.message === 'string' && body.message) return body.message;
  } catch {
    // not JSON: fall through
  }
  return `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}`;
}

async function send(method: string, path: string, o: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const key = o.key ?? currentKey;
  if (key) headers.Authorization = `Bearer ${key}`;
  let body: string | undefined;
  if (o.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(o.body);
  }
  let res: Response;
  try {
    res = await fetch(apiUrl(path, o.query), { method, headers, body, signal: o.signal });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, `The API could not be reached (${(e as Error).message}).`, null);
  }
  if (!res.ok) {
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
    const err = new ApiError(res.status, messageOf(res.status, text), parsed);
    if (err.isAuth && !o.quietAuth) onAuthError(err);
    throw err;
  }
  return res;
}

/** A JSON call; resolves to the parsed body (undefined for 204). */
export async function api<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
  const res = await send(method, path, o);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** A raw response, for downloads and streams (the body is the caller's). */
export function apiRaw(method: string, path: string, o: RequestOptions = {}): Promise<Response> {
  return send(method, path, o);
}

export const get = <T>(path: string, query?: Query, signal?: AbortSignal) => api<T>('GET', path, { query, signal });
export const post = <T>(path: string, body?: unknown) => api<T>('POST', path, { body });
export const put = <T>(path: string, body?: unknown) => api<T>('PUT', path, { body });
export const patch = <T>(path: string, body?: unknown) => api<T>('PATCH', path, { body });
export const del = <T>(path: string, body?: unknown) => api<T>('DELETE', path, { body });

/** A file download through fetch (the key stays in a header, never in a URL). */
export async function download(path: string, filename: string, query?: Query): Promise<void> {
  const res = await apiRaw('GET', path, { query });
  const blob = await res.blob();
  const href = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = href;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
}
