import { importPlan } from './plan-import';
import { inferPlanRules } from './plan-infer';
import { CompiledPlan, parsePlanRules } from './plan-rules';

const whole = (parts: Record<string, unknown>) => ({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', labels: {}, properties: { context: {}, traits: {}, ...parts } });
const orderProps = { type: 'object', properties: { order_id: { id: '/properties/properties/properties/order_id', type: ['string'] }, revenue: { type: ['number'] } }, required: ['order_id', 'revenue'] };

describe('importing foreign tracking plans', () => {
  it('reads a Segment Public API rules list: the latest active version of each rule, common as the whole-event schema', () => {
    const doc = {
      data: {
        trackingPlan: { name: 'Web' },
        rules: [
          { type: 'TRACK', key: 'Order Completed', version: 1, jsonSchema: whole({ properties: { type: 'object', properties: { order_id: { type: 'string' } } } }), deprecatedAt: '0001-01-01T00:00:00.000Z' },
          { type: 'TRACK', key: 'Order Completed', version: 2, jsonSchema: whole({ properties: orderProps }), deprecatedAt: '0001-01-01T00:00:00.000Z' },
          { type: 'TRACK', key: 'Old Event', version: 1, jsonSchema: whole({}), deprecatedAt: '2025-01-01T00:00:00.000Z' },
          { type: 'IDENTIFY', key: null, version: 1, jsonSchema: whole({ traits: { type: 'object', properties: { email: { type: 'string' } }, required: ['email'] } }) },
          { type: 'COMMON', key: null, version: 1, jsonSchema: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', required: ['userId'] } },
        ],
      },
    };
    const { name, rules } = importPlan('segment', doc);
    expect(name).toBe('Web');
    expect(rules.rules.map((r) => r.event ?? r.type)).toEqual(['Order Completed', 'identify']);
    expect(rules.rules[0].properties).toEqual({ type: 'object', properties: { order_id: { type: ['string'] }, revenue: { type: ['number'] } }, required: ['order_id', 'revenue'] });
    expect(rules.rules[0].context).toBeUndefined(); // `{}` placeholders are dropped
    const p = new CompiledPlan('p', 1, parsePlanRules(rules));
    expect(p.check({ type: 'track', event: 'Order Completed', userId: 'u', properties: { order_id: 'o', revenue: 3 } })).toEqual([]);
    expect(p.check({ type: 'track', event: 'Order Completed', anonymousId: 'a', properties: { order_id: 'o' } }).map((v) => v.keyword).sort()).toEqual(['required', 'required']);
    expect(p.check({ type: 'track', event: 'Old Event', userId: 'u' })[0].type).toBe('unplanned_event');
  });

  it('reads a Segment Config API document (also how RudderStack exported plans before its Data Catalog)', () => {
    const doc = {
      display_name: 'Legacy',
      rules: {
        events: [{ name: 'Signed Up', version: 1, rules: whole({ properties: { type: 'object', required: ['plan'] } }) }],
        global: { $schema: 'http://json-schema.org/draft-04/schema#', type: 'object', properties: { context: { type: 'object' } } },
        identify: whole({ traits: { type: 'object', required: ['email'] } }),
        group: whole({ traits: { type: 'object', required: ['name'] } }),
        identify_traits: [],
      },
    };
    for (const format of ['segment', 'rudderstack'] as const) {
      const { name, rules } = importPlan(format, doc);
      expect(name).toBe('Legacy');
      expect(rules.rules.map((r) => `${r.type}:${r.event ?? ''}`)).toEqual(['track:Signed Up', 'identify:', 'group:']);
      expect(rules.common).toBeDefined();
      expect(() => parsePlanRules(rules)).not.toThrow();
    }
  });

  it('reads a RudderStack Data Catalog plan with its events exported as schemas (properties, traits, context.traits)', () => {
    const doc = {
      name: 'App',
      events: [
        { name: 'Order Completed', eventType: 'track', identitySection: 'properties', rules: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { properties: { ...orderProps, additionalProperties: false } } } },
        { name: '', eventType: 'identify', identitySection: 'context.traits', rules: { type: 'object', properties: { context: { properties: { traits: { type: 'object', required: ['email'] } } } } } },
        { name: 'Uses Defs', eventType: 'track', rules: { type: 'object', $defs: { money: { type: 'number' } }, properties: { properties: { type: 'object', properties: { price: { $ref: '#/$defs/money' } } } } } },
      ],
    };
    const { name, rules } = importPlan('rudderstack', doc);
    expect(name).toBe('App');
    const p = new CompiledPlan('p', 1, parsePlanRules(rules));
    expect(p.check({ type: 'track', event: 'Order Completed', properties: { order_id: 'o', revenue: 1, extra: true } })).toEqual([expect.objectContaining({ keyword: 'additionalProperties' })]);
    expect(p.check({ type: 'identify', userId: 'u', context: { traits: {} } })).toEqual([expect.objectContaining({ keyword: 'required', instancePath: '/context/traits' })]);
    expect(p.check({ type: 'track', event: 'Uses Defs', properties: { price: 'x' } })).toEqual([expect.objectContaining({ keyword: 'type', instancePath: '/properties/price' })]);
  });

  it('says what it expected when the document is neither', () => {
    expect(() => importPlan('segment', { hello: 1 })).toThrow(/not a Segment tracking plan/);
    expect(() => importPlan('rudderstack', { events: [{ eventType: 'track', name: 'A' }] })).toThrow(/format=schema/);
    expect(() => importPlan('segment', { rules: [{ type: 'CLICK', jsonSchema: {} }] })).toThrow(/rules\[0\].type/);
  });
});

describe('inferring a draft plan', () => {
  it('types each key with every JSON type seen and requires what every event had', () => {
    const rules = inferPlanRules([
      { type: 'track', event: 'Viewed', total: 10, keys: [{ key: 'sku', t: 'string', n: 10 }, { key: 'price', t: 'number', n: 7 }, { key: 'price', t: 'null', n: 3 }, { key: 'tag', t: 'string', n: 4 }] },
      { type: 'identify', event: '', total: 2, keys: [{ key: 'email', t: 'string', n: 2 }] },
    ]);
    expect(rules.allowUnplanned).toBe(false);
    expect(rules.rules[0]).toMatchObject({ type: 'track', event: 'Viewed', properties: { type: 'object', properties: { price: { type: ['null', 'number'] }, sku: { type: 'string' }, tag: { type: 'string' } }, required: ['price', 'sku'] } });
    expect(rules.rules[1]).toMatchObject({ type: 'identify', traits: { required: ['email'] } });
    expect(() => parsePlanRules(rules)).not.toThrow();
  });
});
