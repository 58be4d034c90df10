import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { EVENT_TYPES, EventType, isEventType } from '../domain/events/event-types';

/** A JSON Schema (draft-07 or 2020-12), as the user wrote it. */
export type JsonSchema = Record<string, unknown> | boolean;

export type PlanSection = 'properties' | 'traits' | 'context';
export const PLAN_SECTIONS: readonly PlanSection[] = ['properties', 'traits', 'context'];

/** One rule: for a call type, and for track one event name; a schema per part of the event. */
export interface EventRule {
  type: EventType;
  /** track only: the event name this rule is for */
  event?: string;
  description?: string;
  properties?: JsonSchema;
  traits?: JsonSchema;
  context?: JsonSchema;
}

/** What one version of a tracking plan says. */
export interface PlanRules {
  /** track events whose name no rule lists: allowed (true) or a violation (false) */
  allowUnplanned: boolean;
  /** a schema every event must satisfy, applied to the whole event */
  common?: JsonSchema;
  rules: EventRule[];
}

export type ViolationType = 'unplanned_event' | 'schema_violation';

export interface Violation {
  type: ViolationType;
  /** the JSON Schema keyword that failed (required, type, enum, ...); `unplanned` for an unplanned event */
  keyword: string;
  /** where in the event, as a JSON Pointer from the event's root (`/properties/revenue`) */
  instancePath: string;
  message: string;
}

export class PlanRulesError extends Error {}

export const MAX_RULES = 2000;
export const MAX_RULES_BYTES = 1_048_576;
const MAX_VIOLATIONS = 20;
const DRAFT_2020 = /^https?:\/\/json-schema\.org\/draft\/2020-12\/schema#?$/;
const DRAFT_07_OR_OLDER = /^https?:\/\/json-schema\.org\/draft-0[467]\/schema#?$/;

// One instance per draft for the whole process. addUsedSchema off: two plans may use the same
// $id without colliding; strict off: exported plans carry keywords ajv does not know (Segment's
// legacy `id`, `labels`), which mean nothing to validation.
const options = { strict: false, allErrors: true, addUsedSchema: false, validateFormats: true } as const;
const ajv07 = addFormats(new Ajv(options));
const ajv2020 = addFormats(new Ajv2020(options));

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks that `input` is a plan version's rules and returns them normalised; throws
 * PlanRulesError with a message a person can act on (which rule, which part) otherwise.
 * Every schema is compiled here too, so a version that is stored is a version that works.
 */
export function parsePlanRules(input: unknown): PlanRules {
  if (!isObject(input)) throw new PlanRulesError('rules must be an object: {allowUnplanned, common?, rules: [...]}');
  checkDepth(input, 'rules');
  const bytes = Buffer.byteLength(JSON.stringify(input));
  if (bytes > MAX_RULES_BYTES) throw new PlanRulesError(`rules are ${bytes} bytes; the limit is ${MAX_RULES_BYTES}`);
  const unknown = Object.keys(input).filter((k) => !['allowUnplanned', 'common', 'rules'].includes(k));
  if (unknown.length) throw new PlanRulesError(`unknown field(s) in rules: ${unknown.join(', ')} (allowed: allowUnplanned, common, rules)`);
  if (input.allowUnplanned !== undefined && typeof input.allowUnplanned !== 'boolean') throw new PlanRulesError('allowUnplanned must be true or false');
  if (!Array.isArray(input.rules)) throw new PlanRulesError('rules.rules must be an array of event rules');
  if (input.rules.length > MAX_RULES) throw new PlanRulesError(`at most ${MAX_RULES} event rules per version`);
  const seen = new Set<string>();
  const rules: EventRule[] = input.rules.map((raw: unknown, i: number) => {
    const at = `rules[${i}]`;
    if (!isObject(raw)) throw new PlanRulesError(`${at} must be an object`);
    const extra = Object.keys(raw).filter((k) => !['type', 'event', 'description', ...PLAN_SECTIONS].includes(k));
    if (extra.length) throw new PlanRulesError(`${at}: unknown field(s) ${extra.join(', ')} (allowed: type, event, description, properties, traits, context)`);
    if (!isEventType(raw.type)) throw new PlanRulesError(`${at}.type must be one of ${EVENT_TYPES.join(', ')}`);
    const rule: EventRule = { type: raw.type };
    if (raw.type === 'track') {
      if (typeof raw.event !== 'string' || raw.event.length === 0 || raw.event.length > 1024) throw new PlanRulesError(`${at}: a track rule needs "event", the event name (1-1024 characters)`);
      rule.event = raw.event;
    } else if (raw.event !== undefined) {
      throw new PlanRulesError(`${at}: only track rules name an event; a ${raw.type} rule applies to every ${raw.type} call`);
    }
    const key = `${rule.type}\u0000${rule.event ?? ''}`;
    if (seen.has(key)) throw new PlanRulesError(`${at}: a second rule for ${rule.event === undefined ? rule.type : `track "${rule.event}"`}`);
    seen.add(key);
    if (raw.description !== undefined) {
      if (typeof raw.description !== 'string' || raw.description.length > 2000) throw new PlanRulesError(`${at}.description must be text of at most 2000 characters`);
      rule.description = raw.description;
    }
    for (const section of PLAN_SECTIONS) {
      if (raw[section] === undefined) continue;
      rule[section] = checkSchema(raw[section], `${at}.${section}`);
    }
    return rule;
  });
  const plan: PlanRules = { allowUnplanned: input.allowUnplanned ?? true, rules };
  if (input.common !== undefined) plan.common = checkSchema(input.common, 'common');
  return plan;
}

export const MAX_PLAN_DEPTH = 64;

/** Refuses documents nested deeper than MAX_PLAN_DEPTH (iteratively: a deep one cannot overflow the stack here, nor later in ajv). */
export function checkDepth(value: unknown, what: string): void {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > MAX_PLAN_DEPTH) throw new PlanRulesError(`${what} nests deeper than ${MAX_PLAN_DEPTH} levels`);
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
}

function checkSchema(schema: unknown, at: string): JsonSchema {
  if (typeof schema !== 'boolean' && !isObject(schema)) throw new PlanRulesError(`${at} must be a JSON Schema (an object or a boolean)`);
  try {
    compileSchema(schema);
  } catch (err) {
    throw new PlanRulesError(`${at} is not a valid JSON Schema: ${(err as Error).message}`);
  }
  return schema;
}

function compileSchema(schema: JsonSchema): ValidateFunction {
  if (typeof schema === 'boolean') return ajv07.compile(schema);
  const draft = schema.$schema;
  if (draft === undefined) return ajv07.compile(schema);
  if (typeof draft === 'string' && DRAFT_2020.test(draft)) return ajv2020.compile(schema);
  // draft-04 and -06 schemas (older Segment exports) read as draft-07: the keywords they use mean the same.
  if (typeof draft === 'string' && DRAFT_07_OR_OLDER.test(draft)) {
    const { $schema: _, ...rest } = schema;
    return ajv07.compile(rest);
  }
  throw new Error(`$schema ${JSON.stringify(draft)} is not supported (draft-07 or 2020-12)`);
}

interface CompiledRule {
  sections: { section: PlanSection; validate: ValidateFunction }[];
}

/**
 * A plan version compiled once: `check` says what an event violates (empty when nothing), with
 * one Map lookup and the generated validators per event.
 */
export class CompiledPlan {
  private readonly track = new Map<string, CompiledRule>();
  private readonly byType = new Map<string, CompiledRule>();
  private readonly common?: ValidateFunction;
  readonly usesContext: boolean;

  constructor(
    readonly planId: string,
    readonly version: number,
    readonly rules: PlanRules,
  ) {
    let usesContext = rules.common !== undefined;
    for (const r of rules.rules) {
      const sections = PLAN_SECTIONS.filter((s) => r[s] !== undefined).map((section) => ({ section, validate: compileSchema(r[section]!) }));
      usesContext ||= r.context !== undefined;
      if (r.type === 'track') this.track.set(r.event!, { sections });
      else this.byType.set(r.type, { sections });
    }
    if (rules.common !== undefined) this.common = compileSchema(rules.common);
    this.usesContext = usesContext;
  }

  /** The event's violations; `context` is the event's context as it will be stored (the batch's merged in). */
  check(event: Record<string, unknown>, context?: unknown): Violation[] {
    const out: Violation[] = [];
    const type = event.type as string;
    let rule: CompiledRule | undefined;
    if (type === 'track') {
      const name = typeof event.event === 'string' ? event.event : String(event.event);
      rule = this.track.get(name);
      if (!rule && !this.rules.allowUnplanned) {
        out.push({ type: 'unplanned_event', keyword: 'unplanned', instancePath: '/event', message: `event "${name.slice(0, 200)}" is not in the tracking plan` });
      }
    } else {
      rule = this.byType.get(type);
    }
    const ctx = context === undefined ? event.context : context;
    if (this.common) {
      const whole = ctx === event.context ? event : { ...event, context: ctx };
      if (!this.common(whole)) collect(out, this.common.errors, '');
    }
    if (rule) {
      for (const { section, validate } of rule.sections) {
        const value = section === 'context' ? ctx : event[section];
        if (!validate(value ?? {})) collect(out, validate.errors, `/${section}`);
      }
    }
    return out.length > MAX_VIOLATIONS ? out.slice(0, MAX_VIOLATIONS) : out;
  }
}

function collect(out: Violation[], errors: ErrorObject[] | null | undefined, prefix: string): void {
  for (const e of errors ?? []) {
    if (out.length >= MAX_VIOLATIONS) return;
    const path = `${prefix}${e.instancePath}`;
    const missing = e.keyword === 'required' ? ` (${String((e.params as { missingProperty?: string }).missingProperty)})` : '';
    const extra = e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : '';
    out.push({ type: 'schema_violation', keyword: e.keyword, instancePath: path, message: `${path || 'the event'} ${e.message ?? 'is invalid'}${missing}${extra}` });
  }
}
