// Hash routing (#/live?type=track): the server serves one index.html and needs no fallback, and
// the key never appears in the URL.
import { signal, useSignal } from './signal';

export interface Route {
  /** The page, e.g. "live" for #/live. */
  page: string;
  /** The rest of the path, e.g. ["abc"] for #/plans/abc. */
  rest: string[];
  params: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?', 2);
  const [page = '', ...rest] = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { page, rest, params: new URLSearchParams(query) };
}

export const route = signal<Route>(parseHash(location.hash));
addEventListener('hashchange', () => route.set(parseHash(location.hash)));

export function href(page: string, rest: string[] = [], params?: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) if (v) q.set(k, v);
  const s = q.toString();
  return `#/${[page, ...rest].map(encodeURIComponent).join('/')}${s ? `?${s}` : ''}`;
}

export function navigate(page: string, rest: string[] = [], params?: Record<string, string | undefined>, replace = false): void {
  const h = href(page, rest, params);
  if (replace) history.replaceState(null, '', h);
  else history.pushState(null, '', h);
  route.set(parseHash(h));
}

export const useRoute = (): Route => useSignal(route);
