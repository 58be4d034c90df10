import { DetailedBadRequest } from '../common/errors';
import { EVENT_TYPES } from '../domain/events/event-types';

/** Which events of a source one live listener wants: null means any. */
export interface LiveFilter {
  types: ReadonlySet<string> | null;
  names: ReadonlySet<string> | null;
}

const MAX_NAMES = 50;

/**
 * `type` (comma-separated call types) and `event` (an exact event name, repeatable) of the live
 * route's query string, as Fastify parses it (a repeated parameter is an array). Bad values: 400.
 */
export function parseLiveFilter(query: { type?: unknown; event?: unknown }): LiveFilter {
  return { types: parseTypes(query.type), names: parseNames(query.event) };
}

function parseTypes(raw: unknown): ReadonlySet<string> | null {
  if (raw === undefined) return null;
  const parts = (Array.isArray(raw) ? raw : [raw]).flatMap((v) => (typeof v === 'string' ? v.split(',') : [v]));
  const types = new Set<string>();
  for (const p of parts) {
    const t = typeof p === 'string' ? p.trim() : p;
    if (typeof t !== 'string' || !(EVENT_TYPES as readonly string[]).includes(t)) {
      throw new DetailedBadRequest(`type must be a comma-separated list of ${EVENT_TYPES.join(', ')}; ${JSON.stringify(String(t)).slice(0, 60)} is none of them.`, { reason: 'invalid_type', field: 'type' });
    }
    types.add(t);
  }
  return types;
}

function parseNames(raw: unknown): ReadonlySet<string> | null {
  if (raw === undefined) return null;
  const names = Array.isArray(raw) ? raw : [raw];
  if (names.length > MAX_NAMES) throw new DetailedBadRequest(`event may be given at most ${MAX_NAMES} times.`, { reason: 'too_many_events', field: 'event' });
  for (const n of names) {
    if (typeof n !== 'string' || n === '' || n.length > 1000) {
      throw new DetailedBadRequest('event must be an event name of 1 to 1000 characters (repeat the parameter for several).', { reason: 'invalid_event', field: 'event' });
    }
  }
  return new Set(names as string[]);
}

/** Whether an event of this type and name passes the filter. */
export function matchesFilter(filter: LiveFilter, type: string, name: string | null): boolean {
  if (filter.types && !filter.types.has(type)) return false;
  if (filter.names && (name === null || !filter.names.has(name))) return false;
  return true;
}
