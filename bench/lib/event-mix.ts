import { randomUUID } from 'node:crypto';
import type { IncomingEvent } from '../../src/queue/queue.constants';

/**
 * The realistic Segment event mix (~1 KB serialized, like @segment/analytics-node sends them:
 * library, userAgent, ip, page, campaign, traits, ...): 70 % track (four event names), 15 % page,
 * 10 % identify, 5 % group. Shared by the bench (bench/lib/events.ts renders it into templates)
 * and the load test (loadtest/traffic.ts); it imports nothing at run time, so the load test can be
 * run against any deployment without loading the app.
 */

export const MID = '__BENCH_MID__';

const EVENTS = [
  { event: 'Product Viewed', props: (i: number) => ({ product_id: `p-${1000 + (i % 500)}`, sku: `SKU-${(i * 7919) % 99991}`, category: ['Games', 'Books', 'Garden', 'Kitchen'][i % 4], name: `Product ${i % 500}`, brand: 'Acme', variant: ['red', 'blue', 'green'][i % 3], price: 19.99 + (i % 50), quantity: 1, currency: 'EUR', position: i % 12, url: `https://shop.example.com/products/${1000 + (i % 500)}`, image_url: `https://cdn.example.com/img/${1000 + (i % 500)}.jpg` }) },
  { event: 'Order Completed', props: (i: number) => ({ order_id: `o-${100000 + i}`, affiliation: 'Web Store', total: 72.5 + (i % 100), subtotal: 65 + (i % 100), revenue: 60 + (i % 90), shipping: 4.5, tax: 8.02, discount: 2.5, coupon: i % 3 ? null : 'WINTER10', currency: 'EUR', products: [{ product_id: `p-${1000 + (i % 500)}`, sku: `SKU-${i % 9999}`, name: 'Monopoly: 3rd Edition', price: 19, quantity: 1, category: 'Games' }, { product_id: `p-${2000 + (i % 300)}`, sku: `SKU-${(i + 17) % 9999}`, name: 'Uno Card Game', price: 3, quantity: 2, category: 'Games' }] }) },
  { event: 'Signed Up', props: (i: number) => ({ method: ['email', 'google', 'github'][i % 3], plan: ['free', 'pro', 'team'][i % 3], referrer: 'newsletter', trial_days: 14, experiment: { name: 'onboarding-v2', variant: i % 2 ? 'control' : 'treatment' } }) },
  { event: 'Button Clicked', props: (i: number) => ({ button_id: `cta-${i % 20}`, label: 'Start free trial', section: 'hero', page_path: `/pricing`, viewport: { width: 1440, height: 900 }, scroll_depth: (i % 100) / 100 }) },
];

const AGENTS = [
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
];

function context(i: number): Record<string, unknown> {
  const path = ['/', '/pricing', '/products/1001', '/checkout', '/blog/launch'][i % 5];
  return {
    library: { name: '@segment/analytics-node', version: '2.1.3' },
    userAgent: AGENTS[i % AGENTS.length],
    ip: `203.0.113.${i % 250}`,
    locale: ['en-US', 'de-DE', 'fr-FR'][i % 3],
    timezone: ['Europe/Berlin', 'America/New_York', 'Asia/Tokyo'][i % 3],
    page: { path, referrer: 'https://www.google.com/', search: i % 2 ? '?utm_source=newsletter' : '', title: 'Acme Shop', url: `https://shop.example.com${path}` },
    campaign: { name: 'winter_sale', source: 'newsletter', medium: 'email', term: 'board games', content: `variant-${i % 4}` },
    traits: { email: `user${i % 5000}@example.com`, name: `User ${i % 5000}`, plan: ['free', 'pro', 'team'][i % 3] },
  };
}

/** One event as an SDK sends it; messageId is the placeholder MID. */
export function sdkEvent(i: number, nowMs: number): IncomingEvent {
  const base = {
    anonymousId: randomUUID(),
    userId: i % 4 === 0 ? undefined : `user-${i % 5000}`,
    messageId: MID,
    timestamp: new Date(nowMs - (i % 3000)).toISOString(),
    context: context(i),
    integrations: {},
    _metadata: { nodeVersion: process.versions.node, jsRuntime: 'node' },
  };
  const kind = i % 20;
  if (kind < 14) {
    const ev = EVENTS[i % EVENTS.length];
    return { type: 'track', event: ev.event, properties: ev.props(i), ...base };
  }
  if (kind < 17) {
    return { type: 'page', name: 'Pricing', properties: { path: '/pricing', url: 'https://shop.example.com/pricing', title: 'Pricing - Acme', referrer: 'https://www.google.com/', search: '', category: 'marketing' }, ...base };
  }
  if (kind < 19) {
    return { type: 'identify', traits: { email: `user${i % 5000}@example.com`, name: `User ${i % 5000}`, plan: 'pro', created_at: '2025-03-01T10:00:00.000Z', logins: i % 40, address: { city: 'Berlin', country: 'DE' } }, ...base, userId: `user-${i % 5000}` };
  }
  return { type: 'group', groupId: `c-${i % 300}`, traits: { name: 'Example GmbH', industry: 'Retail', employees: 120, plan: 'team' }, ...base, userId: `user-${i % 5000}` };
}
