import type { EventType } from '../domain/events/event-types';
import type { EventRule, JsonSchema, PlanRules } from './plan-rules';

/** What the stored events of one (type, event name) look like: per top-level key, how often each JSON type was seen. */
export interface ObservedEvent {
  type: EventType;
  event: string;
  total: number;
  keys: { key: string; t: string; n: number }[];
}

const JSON_TYPE: Record<string, string> = { string: 'string', number: 'number', boolean: 'boolean', object: 'object', array: 'array', null: 'null' };

/**
 * A draft plan from what was stored: one rule per track event name (and per other call type),
 * each key typed with every JSON type seen, required when every event of that name had it.
 * Unplanned events are not allowed: the draft lists everything that was sent.
 */
export function inferPlanRules(observed: ObservedEvent[]): PlanRules {
  const rules: EventRule[] = [];
  for (const o of observed) {
    const byKey = new Map<string, { types: Set<string>; n: number }>();
    for (const k of o.keys) {
      const entry = byKey.get(k.key) ?? { types: new Set<string>(), n: 0 };
      entry.types.add(JSON_TYPE[k.t] ?? 'string');
      entry.n += k.n;
      byKey.set(k.key, entry);
    }
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    for (const [key, { types, n }] of [...byKey].sort(([a], [b]) => a.localeCompare(b))) {
      const list = [...types].sort();
      properties[key] = { type: list.length === 1 ? list[0] : list };
      if (n >= o.total) required.push(key);
    }
    const schema: JsonSchema = { type: 'object', properties, ...(required.length ? { required } : {}) };
    const section = o.type === 'identify' || o.type === 'group' ? 'traits' : 'properties';
    if (o.type === 'alias') rules.push({ type: 'alias' });
    else rules.push({ type: o.type, ...(o.type === 'track' ? { event: o.event } : {}), description: `inferred from ${o.total} stored event(s)`, [section]: schema });
  }
  return { allowUnplanned: false, rules };
}
