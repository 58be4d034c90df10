import { publicBase, rudderSourceConfig, SDK_SETTINGS_ROUTE, segmentSettings } from './sdk-settings';

describe('SDK settings', () => {
  it('matches the two settings routes and nothing else', () => {
    for (const url of ['/v1/projects/sk_write_x/settings', '/v1/projects/k/settings?x=1', '/sourceConfig', '/sourceConfig/', '/sourceConfig/?p=npm&writeKey=k'])
      expect(SDK_SETTINGS_ROUTE.test(url)).toBe(true);
    for (const url of ['/v1/projects//settings', '/v1/projects/a/b/settings', '/v1/projects/k/settingsx', '/sourceConfigs', '/v1/track', '/v1/admin/sources'])
      expect(SDK_SETTINGS_ROUTE.test(url)).toBe(false);
  });

  it('takes PUBLIC_URL over the request, prefix included', () => {
    expect(publicBase('https://example.com/sluice', { protocol: 'http', host: '10.0.0.1:3000' })).toEqual({ protocol: 'https', hostAndPath: 'example.com/sluice' });
    expect(publicBase(null, { protocol: 'http', host: '127.0.0.1:3000' })).toEqual({ protocol: 'http', hostAndPath: '127.0.0.1:3000' });
    expect(publicBase(null, { protocol: 'https', host: 'sluice.example.com' })).toEqual({ protocol: 'https', hostAndPath: 'sluice.example.com' });
  });

  it('sends analytics.js to Sluice only, with its metrics off', () => {
    const s = segmentSettings('sk_write_k', { protocol: 'https', hostAndPath: 'example.com/sluice' });
    expect(s.integrations['Segment.io']).toMatchObject({ apiKey: 'sk_write_k', apiHost: 'example.com/sluice/v1', protocol: 'https' });
    expect(Object.keys(s.integrations)).toEqual(['Segment.io']);
    expect(s.metrics.sampleRate).toBe(0);
  });

  it('gives RudderStack a valid source with no destination', () => {
    const c = rudderSourceConfig('sk_write_k', 'src-1', new Date('2026-12-04T00:00:00Z'));
    expect(c.source).toMatchObject({ id: 'src-1', writeKey: 'sk_write_k', enabled: true, destinations: [] });
    expect(c.source.config.statsCollection.metrics.enabled).toBe(false);
  });
});
