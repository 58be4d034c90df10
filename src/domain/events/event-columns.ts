/**
 * The one definition of a stored event: the columns of table `events`, in order. The staging
 * table DDL, the COPY column list and line renderer (processing), the query API's SELECT list and
 * its OpenAPI view (query) and the bench's COPY baseline are all derived from this list; a test
 * (test/integration/event-columns.spec.ts) holds the migrated table to it. Adding a column means:
 * add it here, write a migration, and fill it in enrichment (the compiler points there).
 */
export type ColumnType = 'uuid' | 'text' | 'timestamptz' | 'jsonb';

export interface ColumnDef {
  /** the column name in PostgreSQL */
  readonly name: string;
  readonly type: ColumnType;
  readonly nullable: boolean;
  /** the field name in the query API (camelCase, as Segment names it) */
  readonly field: string;
  /** shown in the query API's event view (false: implied by the route, e.g. the source) */
  readonly view: boolean;
  readonly description: string;
}

export const EVENT_COLUMNS = [
  { name: 'source_id', type: 'uuid', nullable: false, field: 'sourceId', view: false, description: 'The source the event was sent to' },
  { name: 'message_id', type: 'text', nullable: false, field: 'messageId', view: true, description: 'Deduplication id within the source (generated when the client sent none)' },
  { name: 'type', type: 'text', nullable: false, field: 'type', view: true, description: 'track, identify, page, screen, group or alias' },
  { name: 'event', type: 'text', nullable: true, field: 'event', view: true, description: 'Event name (track)' },
  { name: 'name', type: 'text', nullable: true, field: 'name', view: true, description: 'Page or screen name' },
  { name: 'user_id', type: 'text', nullable: true, field: 'userId', view: true, description: 'userId' },
  { name: 'anonymous_id', type: 'text', nullable: true, field: 'anonymousId', view: true, description: 'anonymousId' },
  { name: 'group_id', type: 'text', nullable: true, field: 'groupId', view: true, description: 'groupId (group)' },
  { name: 'previous_id', type: 'text', nullable: true, field: 'previousId', view: true, description: 'previousId (alias)' },
  { name: 'timestamp', type: 'timestamptz', nullable: false, field: 'timestamp', view: true, description: 'When it happened, corrected for client clock skew' },
  { name: 'original_timestamp', type: 'timestamptz', nullable: true, field: 'originalTimestamp', view: true, description: "The client's own time of the event" },
  { name: 'sent_at', type: 'timestamptz', nullable: true, field: 'sentAt', view: true, description: 'When the client sent it' },
  { name: 'received_at', type: 'timestamptz', nullable: false, field: 'receivedAt', view: true, description: 'When the api received it' },
  { name: 'properties', type: 'jsonb', nullable: true, field: 'properties', view: true, description: 'properties (track, page, screen)' },
  { name: 'traits', type: 'jsonb', nullable: true, field: 'traits', view: true, description: 'traits (identify, group)' },
  { name: 'context', type: 'jsonb', nullable: true, field: 'context', view: true, description: 'context (library, page, userAgent, ip, ...)' },
  { name: 'integrations', type: 'jsonb', nullable: true, field: 'integrations', view: true, description: 'integrations' },
  { name: 'extra', type: 'jsonb', nullable: true, field: 'extra', view: true, description: 'Any other top-level fields the event carried' },
  { name: 'violations', type: 'jsonb', nullable: true, field: 'violations', view: true, description: 'Tracking-plan violations, for an event stored in flag mode: {plan: "<plan id>@<version>", items: [{type, keyword, instancePath, message}]}' },
] as const satisfies readonly ColumnDef[];

export type EventColumn = (typeof EVENT_COLUMNS)[number];
export type EventColumnName = EventColumn['name'];

type ValueOf<C extends ColumnDef> = C['type'] extends 'jsonb' ? unknown : C['nullable'] extends true ? string | null : string;

/** One row of `events` as the worker writes it: timestamps as ISO strings, jsonb as values. */
export type EventRow = { [C in EventColumn as C['name']]: ValueOf<C> };

/** A column name as a PostgreSQL identifier (always quoted: `timestamp` is a keyword). */
export const sqlIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** `"source_id", "message_id", ...`: the column list every statement on `events` uses. */
export const EVENT_COLUMN_LIST = EVENT_COLUMNS.map((c) => sqlIdent(c.name)).join(', ');
