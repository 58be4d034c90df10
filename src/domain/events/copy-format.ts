import { ColumnType, EVENT_COLUMNS, EventRow } from './event-columns';

// COPY text format: backslash, newline, carriage return and tab are escaped; \N is NULL.
const TEXT_SPECIAL = /[\\\n\r\t]/;
function text(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  const s = String(v);
  return TEXT_SPECIAL.test(s) ? s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t') : s;
}
// JSON.stringify already escapes control characters, so only backslashes need doubling.
function json(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  const s = JSON.stringify(v);
  return s.includes('\\') ? s.replace(/\\/g, '\\\\') : s;
}

const ENCODERS: Record<ColumnType, (v: unknown) => string> = { uuid: text, text, timestamptz: text, jsonb: json };

const FIELDS = EVENT_COLUMNS.map((c) => ({ name: c.name, encode: ENCODERS[c.type] }));

/** One row's fields in COPY text format, tab-separated, in EVENT_COLUMNS order (no newline). */
export function copyFields(r: EventRow): string {
  let out = '';
  for (let i = 0; i < FIELDS.length; i++) out += (i === 0 ? '' : '\t') + FIELDS[i].encode(r[FIELDS[i].name]);
  return out;
}

/** The staging table's line: the row's position in its job, then its fields. */
export function copyLine(r: EventRow, idx: number): string {
  return `${idx}\t${copyFields(r)}\n`;
}
