import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import { EVENT_TYPES, isEventType } from '../domain/events/event-types';
import { clientTime } from '../domain/events/timestamps';

export type RejectReason =
  | 'not_an_object'
  | 'invalid_type'
  | 'missing_identity'
  | 'missing_event'
  | 'missing_group_id'
  | 'missing_previous_id'
  | 'invalid_field'
  | 'invalid_text'
  | 'invalid_number'
  | 'event_too_deep'
  | 'event_too_large'
  | 'timestamp_past_retention'
  // Only for a replayed dead letter: ingestion itself drops a suppressed person's events, and
  // those its tracking plan drops, quietly (counted in "suppressed" and "dropped").
  | 'suppressed'
  | 'tracking_plan_drop';

export interface Rejection {
  reason: RejectReason;
  message: string;
}

const id = { type: ['string', 'number', 'null'], maxLength: 1024 };
const text = { type: ['string', 'null'], maxLength: 1024 };
const object = { type: ['object', 'null'] };
const timestamp = { type: ['string', 'null'], format: 'timestamp' };

// Compiled once at load: ajv generates a plain JS function, which is what keeps validation
// cheap on the hot path (class-validator per event costs several times more).
const EVENT_SCHEMA = {
  type: 'object',
  properties: {
    type: { enum: EVENT_TYPES },
    messageId: { type: 'string', minLength: 1, maxLength: 255 },
    userId: id,
    anonymousId: id,
    groupId: id,
    previousId: id,
    event: text,
    name: text,
    timestamp,
    originalTimestamp: timestamp,
    sentAt: timestamp,
    properties: object,
    traits: object,
    context: object,
    integrations: { type: ['object', 'null'] },
  },
} as const;

const ajv = new Ajv({ allErrors: false, strict: false });
ajv.addFormat('timestamp', {
  type: 'string',
  // ISO 8601 that JavaScript parses and PostgreSQL can store (years 0001 to 9999).
  validate: (s: string) => s.length <= 64 && /^\d{4}-\d{2}-\d{2}/.test(s) && clientTime(s) !== null,
});
const validateShape: ValidateFunction = ajv.compile(EVENT_SCHEMA);

const present = (v: unknown) => v !== undefined && v !== null && v !== '';

function describe(err: ErrorObject): string {
  const field = err.instancePath.replace(/^\//, '').replace(/\//g, '.') || 'event';
  if (err.keyword === 'format') return `${field} must be an ISO 8601 date-time string between the years 0001 and 9999`;
  if (err.keyword === 'enum') return `${field} must be one of: ${EVENT_TYPES.join(', ')}`;
  return `${field} ${err.message}`;
}

/**
 * Segment's rules for one event of a known type. Returns null when valid. `type` is the
 * route's type for /v1/track etc., or the event's own for /v1/batch.
 */
export function validateEvent(event: unknown, type: string | undefined): Rejection | null {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) {
    return { reason: 'not_an_object', message: 'each event must be a JSON object' };
  }
  const e = event as Record<string, unknown>;
  if (!isEventType(type)) {
    return { reason: 'invalid_type', message: `type must be one of: ${EVENT_TYPES.join(', ')}` };
  }
  if (!validateShape(e)) {
    return { reason: 'invalid_field', message: describe(validateShape.errors![0]) };
  }
  if (!present(e.userId) && !present(e.anonymousId)) {
    return { reason: 'missing_identity', message: 'every call needs a userId or an anonymousId' };
  }
  if (type === 'track' && !present(e.event)) {
    return { reason: 'missing_event', message: 'track calls need an event name (event)' };
  }
  if (type === 'group' && !present(e.groupId)) {
    return { reason: 'missing_group_id', message: 'group calls need a groupId' };
  }
  if (type === 'alias' && !present(e.previousId)) {
    return { reason: 'missing_previous_id', message: 'alias calls need a previousId' };
  }
  return null;
}
