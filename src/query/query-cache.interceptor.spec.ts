import { BadRequestException, CallHandler, ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { lastValueFrom, of } from 'rxjs';
import type { MetricsService } from '../metrics/metrics.service';
import { QueryCacheInterceptor } from './query-cache.interceptor';
import type { QueryCacheRepository } from './query-cache.repository';

const deep = (levels: number) => JSON.parse('['.repeat(levels) + ']'.repeat(levels)) as unknown;

function setUp() {
  const store = new Map<string, unknown>();
  const cache = {
    enabled: true,
    keyOf: (q: unknown) => JSON.stringify(q),
    get: async (k: string) => store.get(k),
    set: async (k: string, v: unknown) => void store.set(k, v),
  } as unknown as QueryCacheRepository;
  const metrics = { queryDuration: { observe() {} }, queryCache: { inc() {} } } as unknown as MetricsService;
  const reflector = { getAllAndOverride: () => false } as unknown as Reflector;
  const interceptor = new QueryCacheInterceptor(cache, metrics, reflector);
  const ctx = (req: object) =>
    ({ switchToHttp: () => ({ getRequest: () => ({ params: {}, query: {}, ...req }), getResponse: () => ({ header() {} }) }), getHandler: () => function funnel() {}, getClass: () => Object }) as unknown as ExecutionContext;
  const handler: CallHandler = { handle: () => of({ answer: 42 }) };
  return { interceptor, ctx, handler };
}

describe('QueryCacheInterceptor', () => {
  it('caches an answer by its question', async () => {
    const { interceptor, ctx, handler } = setUp();
    expect(await lastValueFrom(interceptor.intercept(ctx({ body: { steps: ['a'] } }), handler))).toEqual({ answer: 42 });
    expect(await lastValueFrom(interceptor.intercept(ctx({ body: { steps: ['a'] } }), { handle: () => of('not asked') }))).toEqual({ answer: 42 });
  });

  // It runs before the pipes: a body nested 20,000 levels deep used to overflow the stack in
  // JSON.stringify (the cache key), a 500, where the pipe would have answered 400 too_deep.
  it('refuses a body the pipes would refuse (nested 20,000 levels) with their 400, before keying it', () => {
    const { interceptor, ctx, handler } = setUp();
    expect(() => interceptor.intercept(ctx({ body: { steps: [], extra: deep(20_000) } }), handler)).toThrow(BadRequestException);
    expect(() => interceptor.intercept(ctx({ body: { steps: [] }, query: { from: 'a\u0000' } }), handler)).toThrow(BadRequestException);
  });
});
