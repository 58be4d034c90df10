import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { AppConfig } from '../config';
import { MetricsModule } from '../metrics/metrics.module';
import { QueueModule } from '../queue/queue.module';
import { RedisModule } from '../redis/redis.module';
import { ApiThrottlerGuard } from './api-throttler.guard';
import { BackpressureService } from './backpressure.service';
import { IngestRateLimitGuard } from './ingest-rate-limit.guard';
import { RateLimitRepository } from './rate-limit.repository';
import { RedisThrottlerStorage } from './redis-throttler.storage';

/** The Redis counters, shared by the ingestion guard and @nestjs/throttler's storage. */
@Module({ imports: [RedisModule], providers: [RateLimitRepository, RedisThrottlerStorage], exports: [RateLimitRepository, RedisThrottlerStorage] })
class RateLimitStorageModule {}

@Module({
  imports: [
    RateLimitStorageModule,
    MetricsModule,
    QueueModule,
    ThrottlerModule.forRootAsync({
      imports: [RateLimitStorageModule],
      inject: [AppConfig, RedisThrottlerStorage],
      useFactory: (config: AppConfig, storage: RedisThrottlerStorage) => ({
        throttlers: [{ name: 'default', ttl: 1000, limit: Math.max(1, config.rateLimits.apiRps) }],
        storage,
        skipIf: () => config.rateLimits.apiRps === 0,
        errorMessage: `Too many requests for this credential: at most ${config.rateLimits.apiRps} per second on the admin and query APIs.`,
      }),
    }),
  ],
  providers: [IngestRateLimitGuard, ApiThrottlerGuard, BackpressureService],
  exports: [RateLimitStorageModule, IngestRateLimitGuard, ApiThrottlerGuard, BackpressureService, ThrottlerModule],
})
export class RateLimitModule {}
