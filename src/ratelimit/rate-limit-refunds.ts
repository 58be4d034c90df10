import { Logger } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { RateLimitRepository } from './rate-limit.repository';

/**
 * Ingestion routes: once a request is answered, events the rate limiter counted but the request
 * did not queue (all of them on a 400 or 503, the rejected ones of a batch) are given back, so
 * refused requests do not burn the daily quota. A request whose client went away before its
 * answer keeps its charge (the limit errs on the side of counting).
 *
 * A Fastify onResponse hook, not a Nest interceptor: an interceptor puts every ingestion request
 * through rxjs and two AsyncResource.bind calls, each of which builds deprecation wrappers on
 * Node 20 (bind + deprecate: 6.7 % of a single event's api CPU before, 4.5 % after; docs/performance.md).
 */
export function registerRateLimitRefunds(fastify: FastifyInstance, limiter: RateLimitRepository): void {
  const logger = new Logger('RateLimitRefunds');
  fastify.addHook('onResponse', (req, _reply, done) => {
    const charge = req.rateLimitCharge;
    if (charge) {
      const unused = charge.events - (req.acceptedEvents ?? 0);
      if (unused > 0) limiter.refund(charge, unused).catch((err: Error) => logger.warn(`rate-limit refund failed: ${err.message}`));
    }
    done();
  });
}
