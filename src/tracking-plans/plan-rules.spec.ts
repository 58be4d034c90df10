import { judgeWith } from './plan-registry.service';
import { CompiledPlan, parsePlanRules, PlanRulesError } from './plan-rules';

const order = { type: 'object', required: ['revenue'], properties: { revenue: { type: 'number' }, currency: { enum: ['EUR', 'USD'] } } };
const plan = (rules: unknown) => new CompiledPlan('p', 1, parsePlanRules(rules));

describe('tracking plan rules', () => {
  it('refuses what it could not run, saying where', () => {
    const cases: [unknown, RegExp][] = [
      [[], /must be an object/],
      [{ rules: 'x' }, /rules.rules must be an array/],
      [{ rules: [], extra: 1 }, /unknown field\(s\) in rules: extra/],
      [{ rules: [{ type: 'click' }] }, /rules\[0\].type must be one of/],
      [{ rules: [{ type: 'track' }] }, /needs "event"/],
      [{ rules: [{ type: 'page', event: 'x' }] }, /only track rules name an event/],
      [{ rules: [{ type: 'track', event: 'A' }, { type: 'track', event: 'A' }] }, /rules\[1\]: a second rule for track "A"/],
      [{ rules: [{ type: 'track', event: 'A', properties: { type: 'nope' } }] }, /rules\[0\].properties is not a valid JSON Schema/],
      [{ rules: [{ type: 'track', event: 'A', properties: { $schema: 'http://example.com/mine' } }] }, /not supported/],
      [{ rules: [], common: 3 }, /common must be a JSON Schema/],
      [{ rules: [], allowUnplanned: 'no' }, /allowUnplanned must be true or false/],
    ];
    for (const [input, message] of cases) {
      expect(() => parsePlanRules(input)).toThrow(PlanRulesError);
      expect(() => parsePlanRules(input)).toThrow(message);
    }
  });

  it('checks track events by name, other calls by type, the common schema on the whole event', () => {
    const p = plan({
      allowUnplanned: false,
      common: { type: 'object', required: ['userId'] },
      rules: [{ type: 'track', event: 'Order Completed', properties: order }, { type: 'identify', traits: { type: 'object', properties: { email: { type: 'string', format: 'email' } } } }],
    });
    expect(p.check({ type: 'track', event: 'Order Completed', userId: 'u', properties: { revenue: 1, currency: 'EUR' } })).toEqual([]);
    expect(p.check({ type: 'track', event: 'Order Completed', userId: 'u' })).toEqual([
      { type: 'schema_violation', keyword: 'required', instancePath: '/properties', message: "/properties must have required property 'revenue' (revenue)" },
    ]);
    expect(p.check({ type: 'track', event: 'Order Completed', anonymousId: 'a', properties: { revenue: '1', currency: 'GBP' } }).map((v) => `${v.keyword} ${v.instancePath}`)).toEqual([
      'required ', 'type /properties/revenue', 'enum /properties/currency',
    ]);
    expect(p.check({ type: 'track', event: 'Order Complete', userId: 'u' })).toEqual([
      { type: 'unplanned_event', keyword: 'unplanned', instancePath: '/event', message: 'event "Order Complete" is not in the tracking plan' },
    ]);
    expect(p.check({ type: 'identify', userId: 'u', traits: { email: 'x' } })).toEqual([expect.objectContaining({ keyword: 'format', instancePath: '/traits/email' })]);
    expect(p.check({ type: 'page', userId: 'u' })).toEqual([]); // no page rule: nothing to check
  });

  it('reads draft-07 (and older) and 2020-12 schemas by their $schema', () => {
    const p = plan({
      rules: [
        { type: 'track', event: 'A', properties: { $schema: 'http://json-schema.org/draft-04/schema#', type: 'object', properties: { n: { type: 'integer' } } } },
        { type: 'track', event: 'B', properties: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { l: { type: 'array', prefixItems: [{ type: 'string' }], items: false } } } },
      ],
    });
    expect(p.check({ type: 'track', event: 'A', properties: { n: 1.5 } })).toEqual([expect.objectContaining({ keyword: 'type' })]);
    expect(p.check({ type: 'track', event: 'B', properties: { l: ['a'] } })).toEqual([]);
    expect(p.check({ type: 'track', event: 'B', properties: { l: ['a', 'b'] } })).toEqual([expect.objectContaining({ keyword: 'items', instancePath: '/properties/l' })]); // 2020-12 semantics: under draft-07 ['a'] would fail too
    expect(p.check({ type: 'track', event: 'Other' })).toEqual([]); // allowUnplanned defaults to true
  });

  it('validates context as stored: the batch context merged under the event own', () => {
    const active = { plan: plan({ rules: [{ type: 'track', event: 'A', context: { type: 'object', required: ['app'] } }] }), onUnplanned: 'allow' as const, onViolation: 'quarantine' as const };
    expect(judgeWith(active, { type: 'track', event: 'A', context: {} }, { app: { name: 'x' } })).toBeUndefined();
    expect(judgeWith(active, { type: 'track', event: 'A', context: {} })).toMatchObject({ action: 'quarantine', plan: 'p@1' });
  });

  it('takes the stricter action when an event breaks rules of both kinds', () => {
    const p = plan({ allowUnplanned: false, common: { required: ['userId'] }, rules: [] });
    const event = { type: 'track', event: 'New', anonymousId: 'a' };
    expect(judgeWith({ plan: p, onUnplanned: 'flag', onViolation: 'drop' }, event)?.action).toBe('drop');
    expect(judgeWith({ plan: p, onUnplanned: 'quarantine', onViolation: 'allow' }, event)?.action).toBe('quarantine');
    expect(judgeWith({ plan: p, onUnplanned: 'allow', onViolation: 'allow' }, event)).toMatchObject({ action: 'allow', violations: [expect.anything(), expect.anything()] });
  });

  it('keeps at most 20 violations per event', () => {
    const properties = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`p${i}`, { type: 'string' }]));
    const p = plan({ rules: [{ type: 'track', event: 'A', properties: { type: 'object', properties } }] });
    expect(p.check({ type: 'track', event: 'A', properties: Object.fromEntries(Object.keys(properties).map((k) => [k, 1])) })).toHaveLength(20);
  });
});
