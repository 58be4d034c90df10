import { CallHandler, ExecutionContext, Injectable, NestInterceptor, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { from, Observable, of, switchMap, tap } from 'rxjs';
import { assertSafeInput } from '../common/safe-input';
import { MetricsService } from '../metrics/metrics.service';
import { QueryCacheRepository } from './query-cache.repository';

const UNCACHED = 'sluice:query-uncached';
/** Timed like the stats routes, never cached (the event list and receipts must be current). */
export const Uncached = () => SetMetadata(UNCACHED, true);

/**
 * Serves a stats answer from the aggregate cache when the same question (route, source, query
 * and body) was answered within QUERY_CACHE_TTL_MS; says which in `X-Sluice-Cache` (hit, miss,
 * off), and times every answer per endpoint. Runs after authentication: a cached answer is only
 * ever given to a key allowed to ask.
 */
@Injectable()
export class QueryCacheInterceptor implements NestInterceptor {
  constructor(
    private readonly cache: QueryCacheRepository,
    private readonly metrics: MetricsService,
    private readonly reflector: Reflector,
  ) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = ctx.switchToHttp();
    const req = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const endpoint = ctx.getHandler().name;
    const started = process.hrtime.bigint();
    // `cache` is hit, miss or off; `error` for an answer that failed (a 400, a query timeout).
    const done = (cache: string) => {
      reply.header('X-Sluice-Cache', cache);
      this.metrics.queryDuration.observe({ endpoint, cache }, Number(process.hrtime.bigint() - started) / 1e9);
    };
    if (!this.cache.enabled || this.reflector.getAllAndOverride<boolean>(UNCACHED, [ctx.getHandler(), ctx.getClass()])) {
      return next.handle().pipe(tap({ next: () => done('off'), error: () => done('error') }));
    }
    // The field filters were taken out of the query string already (FieldFiltersInterceptor).
    const filters = (req as { fieldFilters?: unknown }).fieldFilters ?? [];
    // Interceptors run before the pipes: the body is still raw here, and may nest deeper than
    // JSON.stringify (the key) can recurse. The pipes' own rule first, with the 400 they would
    // give (SafeValidationPipe), rather than a stack overflow's 500.
    assertSafeInput(req.body ?? null, 'body');
    assertSafeInput(req.query ?? null, 'query');
    const key = this.cache.keyOf([endpoint, req.params, req.query, filters, req.body ?? null]);
    return from(this.cache.get(key)).pipe(
      switchMap((hit) => {
        this.metrics.queryCache.inc({ endpoint, result: hit === undefined ? 'miss' : 'hit' });
        if (hit !== undefined) {
          done('hit');
          return of(hit);
        }
        return next.handle().pipe(
          switchMap((answer) => from(this.cache.set(key, answer).then(() => answer))),
          tap({ next: () => done('miss'), error: () => done('error') }),
        );
      }),
    );
  }
}
