import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { MetricsModule } from '../metrics/metrics.module';
import { RateLimitModule } from '../ratelimit/rate-limit.module';
import { RedisModule } from '../redis/redis.module';
import { LiveController } from './live.controller';
import { LiveRepository } from './live.repository';
import { LiveService } from './live.service';

/** The live debugger: GET /v1/sources/:sourceId/live, fed by IngestService through Redis pub/sub. */
@Module({
  imports: [AuthModule, RateLimitModule, MetricsModule, RedisModule],
  controllers: [LiveController],
  providers: [LiveService, LiveRepository],
  exports: [LiveService],
})
export class LiveModule {}
