import { CallHandler, ExecutionContext, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Observable, finalize } from 'rxjs';
import { RateLimitRepository } from './rate-limit.repository';

/**
 * Ingestion routes: after the request is answered, events the rate limiter counted but the
 * request did not queue (all of them on a 400 or 503, the rejected ones of a batch) are given
 * back, so refused requests do not burn the daily quota.
 */
@Injectable()
export class RateLimitRefundInterceptor implements NestInterceptor {
  private readonly logger = new Logger(RateLimitRefundInterceptor.name);

  constructor(private readonly limiter: RateLimitRepository) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    return next.handle().pipe(
      finalize(() => {
        const charge = req.rateLimitCharge;
        if (!charge) return;
        const unused = charge.events - (req.acceptedEvents ?? 0);
        if (unused > 0) this.limiter.refund(charge, unused).catch((err: Error) => this.logger.warn(`rate-limit refund failed: ${err.message}`));
      }),
    );
  }
}
