/**
 * A realistic tracking plan for the bench's events: 20 track events with 5-15 typed properties
 * each (the 4 the bench sends among them, each of their properties described, most required),
 * rules for page, identify and group, and a common schema on context. Every bench event passes
 * it, so validation runs in full on every event and nothing is dropped or quarantined.
 */
const str = { type: 'string' };
const num = { type: 'number' };
const obj = (properties: Record<string, unknown>, required: string[] = Object.keys(properties)) => ({ type: 'object', properties, required });

const SENT: Record<string, Record<string, unknown>> = {
  'Product Viewed': { product_id: str, sku: str, category: { enum: ['Games', 'Books', 'Garden', 'Kitchen'] }, name: str, brand: str, variant: str, price: num, quantity: { type: 'integer', minimum: 1 }, currency: { type: 'string', pattern: '^[A-Z]{3}$' }, position: { type: 'integer' }, url: { type: 'string', format: 'uri' }, image_url: { type: 'string', format: 'uri' } },
  'Order Completed': {
    order_id: str, affiliation: str, total: num, subtotal: num, revenue: num, shipping: num, tax: num, discount: num, coupon: { type: ['string', 'null'] }, currency: { type: 'string', pattern: '^[A-Z]{3}$' },
    products: { type: 'array', items: obj({ product_id: str, sku: str, name: str, price: num, quantity: { type: 'integer' }, category: str }) },
  },
  'Signed Up': { method: { enum: ['email', 'google', 'github'] }, plan: { enum: ['free', 'pro', 'team'] }, referrer: str, trial_days: { type: 'integer' }, experiment: obj({ name: str, variant: str }) },
  'Button Clicked': { button_id: str, label: str, section: str, page_path: str, viewport: obj({ width: num, height: num }), scroll_depth: { type: 'number', minimum: 0, maximum: 1 } },
};

export function benchPlanRules(): Record<string, unknown> {
  const rules: Record<string, unknown>[] = Object.entries(SENT).map(([event, props]) => ({ type: 'track', event, properties: obj(props) }));
  for (let i = 0; rules.length < 20; i++) {
    const n = 5 + (i % 11);
    const props = Object.fromEntries(Array.from({ length: n }, (_, k) => [`field_${k}`, k % 3 === 0 ? num : k % 3 === 1 ? str : { type: 'boolean' }]));
    rules.push({ type: 'track', event: `Planned Event ${i}`, properties: obj(props, Object.keys(props).slice(0, 3)) });
  }
  rules.push({ type: 'page', properties: obj({ path: str, url: { type: 'string', format: 'uri' }, title: str, referrer: str, search: str, category: str }, ['path', 'url']) });
  rules.push({ type: 'identify', traits: obj({ email: { type: 'string', format: 'email' }, name: str, plan: { enum: ['free', 'pro', 'team'] }, created_at: { type: 'string', format: 'date-time' }, logins: { type: 'integer' }, address: obj({ city: str, country: str }) }, ['email']) });
  rules.push({ type: 'group', traits: obj({ name: str, industry: str, employees: { type: 'integer' }, plan: str }, ['name']) });
  return {
    allowUnplanned: false,
    common: { type: 'object', properties: { context: obj({ library: obj({ name: str, version: str }), userAgent: str, ip: str, locale: str }, ['library']) } },
    rules,
  };
}
