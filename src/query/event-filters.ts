import { BadRequestException, CallHandler, createParamDecorator, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { assertSafeInput } from '../common/safe-input';

/** Equality on a field inside `properties` or `context`: `properties.plan=pro`, `context.library.name=analytics.js`. */
export interface FieldFilter {
  column: 'properties' | 'context';
  path: string[];
  value: string;
}

export const MAX_FIELD_FILTERS = 10;
const FILTER_KEY = /^(properties|context)\.(.*)$/;
const SEGMENT = /^[A-Za-z0-9_$@-]{1,100}$/;
const MAX_PATH = 4;

type WithFilters = FastifyRequest & { fieldFilters?: FieldFilter[] };

/**
 * Takes `properties.*` and `context.*` query parameters out of the query string before the DTO
 * is validated (which refuses unknown parameters), checks them, and leaves them for
 * @FieldFilters(). Repeated parameters are ANDed like the others.
 */
export function extractFieldFilters(query: Record<string, unknown>): FieldFilter[] {
  const filters: FieldFilter[] = [];
  for (const key of Object.keys(query)) {
    const m = FILTER_KEY.exec(key);
    if (!m) continue;
    const raw = query[key];
    delete query[key];
    const path = m[2].split('.');
    if (path.length > MAX_PATH || !path.every((s) => SEGMENT.test(s))) {
      throw new BadRequestException({ message: `${key}: a filter names a field as ${m[1]}.<name>[.<name>...], at most ${MAX_PATH} names of letters, digits, _ $ @ -.`, reason: 'invalid_filter', field: key });
    }
    for (const value of Array.isArray(raw) ? raw : [raw]) {
      if (typeof value !== 'string') throw new BadRequestException({ message: `${key} must be a string.`, reason: 'invalid_filter', field: key });
      assertSafeInput(value, key);
      filters.push({ column: m[1] as FieldFilter['column'], path, value });
    }
  }
  if (filters.length > MAX_FIELD_FILTERS) {
    throw new BadRequestException({ message: `At most ${MAX_FIELD_FILTERS} properties./context. filters per request (got ${filters.length}).`, reason: 'too_many_filters', field: 'properties' });
  }
  return filters;
}

/** Runs before the pipes (interceptors do), so the DTO never sees the filter parameters. */
@Injectable()
export class FieldFiltersInterceptor implements NestInterceptor {
  intercept(ctx: ExecutionContext, next: CallHandler) {
    const req = ctx.switchToHttp().getRequest<WithFilters>();
    const query = { ...((req.query as Record<string, unknown> | undefined) ?? {}) };
    req.fieldFilters = extractFieldFilters(query);
    req.query = query;
    return next.handle();
  }
}

export const FieldFilters = createParamDecorator((_: unknown, ctx: ExecutionContext): FieldFilter[] => ctx.switchToHttp().getRequest<WithFilters>().fieldFilters ?? []);
