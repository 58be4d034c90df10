/**
 * Security headers, set by Sluice itself (no library's private route options involved): every
 * response gets a fixed set, chosen by the route's `securityHeaders` route config or its path.
 * - `api` (the default): JSON routes. Nothing on them is meant to render, so the CSP forbids all.
 * - `ingest`: the hottest routes get the four headers that matter for a JSON answer, no more.
 * - `docs`: Swagger UI needs inline scripts and styles; plain-HTTP local installs must not be
 *   told to upgrade every request.
 * - `console`: the console's own files and nothing else (no inline script or style, no
 *   third-party origin); it talks only to this origin's API.
 */
export type SecurityHeaderSet = 'api' | 'ingest' | 'docs' | 'console';

/** Route config a controller sets with `@RouteConfig(...)` to pick its header set. */
export const securityHeadersConfig = (set: SecurityHeaderSet) => ({ securityHeaders: set });

const JSON_CSP = "default-src 'none'; frame-ancestors 'none'";
const HSTS = 'max-age=31536000; includeSubDomains';

const INGEST: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': JSON_CSP,
  'Referrer-Policy': 'no-referrer',
  'Strict-Transport-Security': HSTS,
};

// What helmet sends by default, with the CSP per set.
const COMMON: Record<string, string> = {
  ...INGEST,
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Origin-Agent-Cluster': '?1',
  'X-DNS-Prefetch-Control': 'off',
  'X-Download-Options': 'noopen',
  'X-Frame-Options': 'SAMEORIGIN',
  'X-Permitted-Cross-Domain-Policies': 'none',
  'X-XSS-Protection': '0',
};

export const SECURITY_HEADERS: Record<SecurityHeaderSet, Readonly<Record<string, string>>> = {
  api: COMMON,
  ingest: INGEST,
  docs: {
    ...COMMON,
    'Content-Security-Policy':
      "default-src 'self'; base-uri 'self'; font-src 'self' https: data:; form-action 'self'; frame-ancestors 'self'; " +
      "img-src 'self' data:; object-src 'none'; script-src 'self' 'unsafe-inline'; script-src-attr 'none'; style-src 'self' 'unsafe-inline'",
  },
  console: {
    ...COMMON,
    'Content-Security-Policy':
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; " +
      "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'",
  },
};

const DOCS_PATH = /^\/docs(?:[/?-]|$)/;
const CONSOLE_PATH = /^\/console(?:[/?]|$)/;

/** The header set of a request: its route's choice, else by path. */
export function securityHeadersFor(routeConfig: unknown, url: string): Readonly<Record<string, string>> {
  const chosen = (routeConfig as { securityHeaders?: SecurityHeaderSet } | undefined)?.securityHeaders;
  if (chosen) return SECURITY_HEADERS[chosen];
  if (DOCS_PATH.test(url)) return SECURITY_HEADERS.docs;
  return CONSOLE_PATH.test(url) ? SECURITY_HEADERS.console : SECURITY_HEADERS.api;
}
