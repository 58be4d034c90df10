import { SECURITY_HEADERS, securityHeadersFor, securityHeadersConfig } from './security-headers';

describe('securityHeadersFor', () => {
  it('picks the set by route config first, then by path', () => {
    expect(securityHeadersFor(securityHeadersConfig('ingest'), '/console/')).toBe(SECURITY_HEADERS.ingest);
    expect(securityHeadersFor(undefined, '/docs')).toBe(SECURITY_HEADERS.docs);
    expect(securityHeadersFor(undefined, '/docs-json')).toBe(SECURITY_HEADERS.docs);
    expect(securityHeadersFor(undefined, '/console')).toBe(SECURITY_HEADERS.console);
    expect(securityHeadersFor(undefined, '/console/assets/index-abc.js')).toBe(SECURITY_HEADERS.console);
    expect(securityHeadersFor(undefined, '/consoles')).toBe(SECURITY_HEADERS.api);
    expect(securityHeadersFor(undefined, '/v1/me')).toBe(SECURITY_HEADERS.api);
  });

  it("gives the console a CSP with no inline code and no other origin", () => {
    const csp = SECURITY_HEADERS.console['Content-Security-Policy'];
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).toMatch(/style-src 'self'(;|$)/);
    expect(csp).toMatch(/connect-src 'self'(;|$)/);
    expect(csp).toMatch(/frame-ancestors 'none'/);
    expect(csp).not.toMatch(/unsafe-|https?:|\*/);
  });
});
