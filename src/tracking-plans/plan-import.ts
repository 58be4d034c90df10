import type { EventType } from '../domain/events/event-types';
import { checkDepth, EventRule, JsonSchema, PlanRules, PlanRulesError } from './plan-rules';

/**
 * Plans exported from Segment Protocols and RudderStack, turned into Sluice rules. In both, an
 * event's JSON Schema describes the whole message: its properties sit under
 * `properties.properties`, traits under `properties.traits`, context under `properties.context`.
 * Accepted shapes:
 * - Segment Public API: `{data: {rules: [{type: TRACK|IDENTIFY|GROUP|PAGE|SCREEN|COMMON, key, jsonSchema, version, deprecatedAt?}]}}`
 *   (or `{rules: [...]}`, with the plan in `trackingPlan`);
 * - Segment Config API (and RudderStack's legacy plans, which use it): `{display_name, rules: {events: [{name, rules}], global, identify, group}}`;
 * - RudderStack Data Catalog: `{name, events: [{name, eventType, identitySection, rules}]}` (or the events list `{data: [...]}`).
 */
export function importPlan(format: 'segment' | 'rudderstack', doc: Record<string, unknown>): { name: string | null; rules: PlanRules } {
  checkDepth(doc, 'the plan');
  const data = isObject(doc.data) ? doc.data : null;
  const plan = isObject(doc.trackingPlan) ? doc.trackingPlan : data && isObject(data.trackingPlan) ? data.trackingPlan : doc;
  const name = str(plan.name) ?? str(plan.display_name) ?? str(doc.display_name) ?? str(doc.name);
  if (format === 'segment') {
    const list = Array.isArray(doc.rules) ? doc.rules : data && Array.isArray(data.rules) ? data.rules : null;
    if (list) return { name, rules: fromSegmentRules(list) };
    if (isObject(doc.rules)) return { name: str(doc.display_name) ?? name, rules: fromConfigShape(doc.rules) };
    throw new PlanRulesError('not a Segment tracking plan: expected {data: {rules: [...]}} (Public API) or {rules: {events: [...]}} (Config API)');
  }
  const events = Array.isArray(doc.events) ? doc.events : Array.isArray(doc.data) ? doc.data : null;
  if (events) return { name, rules: fromRudderEvents(events) };
  if (isObject(doc.rules)) return { name, rules: fromConfigShape(doc.rules) };
  throw new PlanRulesError('not a RudderStack tracking plan: expected {name, events: [{name, eventType, identitySection, rules}]} or a legacy {rules: {events: [...]}}');
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const SEGMENT_TYPES: Record<string, EventType | 'common'> = { TRACK: 'track', IDENTIFY: 'identify', GROUP: 'group', PAGE: 'page', SCREEN: 'screen', COMMON: 'common' };
// Segment marks a rule that is not deprecated with the zero time.
const ACTIVE = (d: unknown) => d === undefined || d === null || (typeof d === 'string' && d.startsWith('0001-01-01'));

function fromSegmentRules(list: unknown[]): PlanRules {
  // Several versions of one event may be listed (event versioning): the highest active one counts.
  const latest = new Map<string, { version: number; type: EventType | 'common'; key: string | null; schema: Record<string, unknown> }>();
  list.forEach((raw, i) => {
    if (!isObject(raw)) throw new PlanRulesError(`rules[${i}] is not an object`);
    const type = SEGMENT_TYPES[String(raw.type).toUpperCase()];
    if (!type) throw new PlanRulesError(`rules[${i}].type ${JSON.stringify(raw.type)} is not one of TRACK, IDENTIFY, GROUP, PAGE, SCREEN, COMMON`);
    if (!ACTIVE(raw.deprecatedAt)) return;
    if (!isObject(raw.jsonSchema)) throw new PlanRulesError(`rules[${i}].jsonSchema must be a JSON Schema object`);
    const key = type === 'track' ? str(raw.key) : null;
    if (type === 'track' && key === null) throw new PlanRulesError(`rules[${i}]: a TRACK rule needs its event name in "key"`);
    const id = `${type}\u0000${key ?? ''}`;
    const version = typeof raw.version === 'number' ? raw.version : 1;
    if ((latest.get(id)?.version ?? -Infinity) < version) latest.set(id, { version, type, key, schema: raw.jsonSchema });
  });
  const rules: EventRule[] = [];
  let common: JsonSchema | undefined;
  for (const r of latest.values()) {
    if (r.type === 'common') common = wholeEvent(r.schema);
    else rules.push(fromMessageSchema(r.type, r.key, r.schema));
  }
  return { allowUnplanned: false, ...(common !== undefined ? { common } : {}), rules };
}

function fromConfigShape(rules: Record<string, unknown>): PlanRules {
  const out: EventRule[] = [];
  const events = Array.isArray(rules.events) ? rules.events : [];
  events.forEach((raw, i) => {
    if (!isObject(raw) || !str(raw.name)) throw new PlanRulesError(`rules.events[${i}] needs a name`);
    if (!isObject(raw.rules)) throw new PlanRulesError(`rules.events[${i}].rules must be a JSON Schema object`);
    out.push(fromMessageSchema('track', raw.name as string, raw.rules));
  });
  for (const type of ['identify', 'group', 'page', 'screen'] as const) {
    if (isObject(rules[type])) out.push(fromMessageSchema(type, null, rules[type] as Record<string, unknown>));
  }
  const common = isObject(rules.global) ? wholeEvent(rules.global) : undefined;
  return { allowUnplanned: false, ...(common !== undefined ? { common } : {}), rules: out };
}

function fromRudderEvents(events: unknown[]): PlanRules {
  const rules: EventRule[] = events.map((raw, i) => {
    if (!isObject(raw)) throw new PlanRulesError(`events[${i}] is not an object`);
    const type = String(raw.eventType ?? 'track').toLowerCase() as EventType;
    if (!['track', 'identify', 'group', 'page', 'screen'].includes(type)) throw new PlanRulesError(`events[${i}].eventType ${JSON.stringify(raw.eventType)} is not track, identify, group, page or screen`);
    if (type === 'track' && !str(raw.name)) throw new PlanRulesError(`events[${i}]: a track event needs its name`);
    if (!isObject(raw.rules)) throw new PlanRulesError(`events[${i}] has no rules: export the events with format=schema`);
    return fromMessageSchema(type, type === 'track' ? (raw.name as string) : null, raw.rules, str(raw.description));
  });
  return { allowUnplanned: false, rules: dedupe(rules) };
}

/** A whole-message schema split into the parts Sluice validates. */
function fromMessageSchema(type: EventType, event: string | null, schema: Record<string, unknown>, description?: string | null): EventRule {
  const parts = isObject(schema.properties) ? schema.properties : {};
  const rule: EventRule = { type, ...(event !== null ? { event } : {}) };
  const desc = description ?? str(schema.description);
  if (desc) rule.description = desc.slice(0, 2000);
  const defs = schema.$defs ?? schema.definitions;
  for (const section of ['properties', 'traits', 'context'] as const) {
    const part = parts[section];
    if (!isObject(part) && typeof part !== 'boolean') continue;
    if (isObject(part) && Object.keys(part).length === 0) continue; // `{}`: the exporter's placeholder, allows anything
    // References (#/$defs/...) point into the whole message: keep its definitions beside each part.
    rule[section] = isObject(part) && defs !== undefined ? { ...(clean(part) as Record<string, unknown>), ...(schema.$defs ? { $defs: defs } : { definitions: defs }) } : clean(part);
  }
  return rule;
}

function wholeEvent(schema: Record<string, unknown>): JsonSchema {
  return clean(schema) as JsonSchema;
}

/** Drops what only the exporting tool means: the legacy `id` keyword of Segment's editor, `labels`. */
function clean(schema: unknown): JsonSchema {
  if (!isObject(schema)) return schema as JsonSchema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'id' && typeof v === 'string' && v.startsWith('/')) continue;
    if (k === 'labels') continue;
    out[k] = k === 'properties' && isObject(v) ? Object.fromEntries(Object.entries(v).map(([p, s]) => [p, clean(s)])) : isObject(v) ? clean(v) : Array.isArray(v) ? v.map((x) => (isObject(x) ? clean(x) : x)) : v;
  }
  return out;
}

function dedupe(rules: EventRule[]): EventRule[] {
  const seen = new Map<string, EventRule>();
  for (const r of rules) seen.set(`${r.type}\u0000${r.event ?? ''}`, r);
  return [...seen.values()];
}
