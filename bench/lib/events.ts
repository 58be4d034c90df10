import { randomUUID } from 'node:crypto';
import { copyFields } from '../../src/domain/events/copy-format';
import type { IncomingEvent } from '../../src/queue/queue.constants';
import { toEventRow } from '../../src/domain/events/enrichment';

/**
 * Realistic Segment events (~1 KB serialized, like @segment/analytics-node sends them: library,
 * userAgent, ip, page, campaign, traits, ...) and fast factories for request bodies with unique
 * messageIds. Bodies are pre-rendered templates with a placeholder where each messageId goes, so
 * producing a 100 KB body costs a string join, not a JSON.stringify: the load generator shares
 * the two cores with everything it measures.
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

/** A pre-rendered body split at its messageId placeholders. */
class Template {
  readonly parts: string[];
  constructor(json: string) {
    this.parts = json.split(MID);
  }
  get slots(): number {
    return this.parts.length - 1;
  }
  render(idPrefix: string): string {
    const p = this.parts;
    let out = p[0];
    for (let i = 1; i < p.length; i++) out += `${idPrefix}-${i}${p[i]}`;
    return out;
  }
}

/** Produces distinct bodies with unique messageIds, cheaply. */
export class BodyFactory {
  private readonly templates: Template[];
  private n = 0;
  readonly eventsPerBody: number;
  readonly averageBytes: number;

  private constructor(templates: Template[], private readonly tag: string) {
    this.templates = templates;
    this.eventsPerBody = templates[0].slots;
    this.averageBytes = Math.round(templates.reduce((s, t) => s + t.render(`${tag}-000000000`).length, 0) / templates.length);
  }

  /** `POST /v1/batch` bodies of `size` events, like analytics-node's flush ({batch, sentAt}). */
  static batch(tag: string, size: number, variants = 16): BodyFactory {
    const now = Date.now();
    const templates: Template[] = [];
    for (let v = 0; v < variants; v++) {
      const batch = Array.from({ length: size }, (_, j) => sdkEvent(v * size + j, now));
      templates.push(new Template(JSON.stringify({ batch, sentAt: new Date(now).toISOString() })));
    }
    return new BodyFactory(templates, tag);
  }

  /** `POST /v1/track` bodies, one track event each. */
  static track(tag: string, variants = 32): BodyFactory {
    const now = Date.now();
    const templates: Template[] = [];
    for (let i = 0; templates.length < variants; i++) {
      const e = sdkEvent(i, now);
      if (e.type !== 'track') continue;
      const { type: _type, ...body } = e;
      templates.push(new Template(JSON.stringify({ ...body, sentAt: new Date(now).toISOString() })));
    }
    return new BodyFactory(templates, tag);
  }

  next(): string {
    const n = this.n++;
    return this.templates[n % this.templates.length].render(`${this.tag}-${n.toString(36)}`);
  }
}

/** Bytes of one event as JSON, for the report. */
export function eventBytes(sample = 200): number {
  const now = Date.now();
  let total = 0;
  for (let i = 0; i < sample; i++) total += Buffer.byteLength(JSON.stringify({ ...sdkEvent(i, now), messageId: randomUUID() }));
  return Math.round(total / sample);
}

/**
 * The rows Sluice's worker would store for the same events (same normalisation as the api,
 * the worker's own toEventRow), rendered as COPY text with a messageId placeholder, so the
 * baseline writes exactly the bytes the end-to-end path writes.
 */
export class CopyRowsFactory {
  private readonly template: Template;
  private n = 0;
  readonly rowsPerChunk: number;

  constructor(sourceId: string, private readonly tag: string, rows: number) {
    const now = Date.now();
    const receivedAt = new Date(now + 50).toISOString();
    const lines: string[] = [];
    for (let i = 0; i < rows; i++) {
      const e = { ...sdkEvent(i, now), sentAt: new Date(now).toISOString() };
      const row = toEventRow({ s: sourceId, t: receivedAt, ip: '127.0.0.1', r: 'bench-copy', e });
      lines.push(copyFields(row));
    }
    this.template = new Template(`${lines.join('\n')}\n`);
    this.rowsPerChunk = rows;
  }

  next(): string {
    return this.template.render(`${this.tag}-${(this.n++).toString(36)}`);
  }
}
