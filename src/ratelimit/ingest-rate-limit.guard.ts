import { CanActivate, ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { KeyPrincipal } from '../domain/principal';
import { RetryLaterException } from '../common/errors';
import { AppConfig } from '../config';
import { MetricsService } from '../metrics/metrics.service';
import { RateLimitCharge, RateLimitRepository } from './rate-limit.repository';

declare module 'fastify' {
  interface FastifyRequest {
    /** events counted against this request's event windows (refunded for what was not accepted) */
    rateLimitCharge?: RateLimitCharge;
    /** events the request got queued (set by the ingestion route on success) */
    acceptedEvents?: number;
  }
}

const WHAT = { requests: 'requests per second', events: 'events per second', daily_quota: 'events per day (UTC)' } as const;

/** Events a request carries: the batch length, or 1. */
function eventCount(body: unknown): number {
  const batch = (body as { batch?: unknown } | null)?.batch;
  return Array.isArray(batch) ? Math.max(1, batch.length) : 1;
}

/**
 * Per-source limits on ingestion (after WriteKeyGuard): requests/s, events/s, events/day, from
 * the source's settings or the global defaults. Over a limit: 429 with Retry-After and
 * X-RateLimit-* headers, and none of the request's events is queued.
 */
@Injectable()
export class IngestRateLimitGuard implements CanActivate {
  constructor(
    private readonly limiter: RateLimitRepository,
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    const reply = ctx.switchToHttp().getResponse<FastifyReply>();
    const key = req.principal as KeyPrincipal;
    const defaults = this.config.rateLimits;
    const limits = {
      rps: key.limits.rps ?? defaults.rps,
      eps: key.limits.eps ?? defaults.eps,
      daily: key.limits.dailyQuota ?? defaults.dailyQuota,
    };
    if (limits.rps === 0 && limits.eps === 0 && limits.daily === 0) return true; // unlimited: no round trip
    const events = eventCount(req.body);
    let check;
    try {
      check = await this.limiter.checkAndCount(key.sourceId!, limits, events);
    } catch {
      // Limits need Redis; so does accepting the events at all.
      throw new RetryLaterException('Rate limits cannot be checked: the queue (Redis) is unavailable.', 1);
    }
    void reply.header('X-RateLimit-Limit', String(check.limit));
    void reply.header('X-RateLimit-Remaining', String(check.remaining));
    void reply.header('X-RateLimit-Reset', String(check.resetSeconds));
    if (!check.exceeded) {
      req.rateLimitCharge = check.charge;
      return true;
    }

    this.metrics.throttledRequests.inc({ source: key.sourceId! });
    this.metrics.throttledEvents.inc({ source: key.sourceId! }, events);
    const tooBig = check.exceeded !== 'requests' && events > check.limit;
    throw new RetryLaterException(
      tooBig
        ? `This request carries ${events} events, more than the source's limit of ${check.limit} ${WHAT[check.exceeded]}; split it into smaller batches.`
        : `Rate limit exceeded: ${check.limit} ${WHAT[check.exceeded]} for this source. Nothing from this request was accepted; retry after ${check.resetSeconds} s.`,
      check.resetSeconds,
      HttpStatus.TOO_MANY_REQUESTS,
      { reason: 'rate_limited', limit: check.exceeded },
    );
  }
}
