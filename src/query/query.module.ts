import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { RateLimitModule } from '../ratelimit/rate-limit.module';
import { EventsQueryController } from './events-query.controller';
import { EventsQueryRepository } from './events-query.repository';
import { QueryDatabase } from './query-database';
import { QueryCacheInterceptor } from './query-cache.interceptor';
import { QueryCacheRepository } from './query-cache.repository';
import { MetricsModule } from '../metrics/metrics.module';
import { RedisModule } from '../redis/redis.module';
import { RollupsModule } from './rollups.module';
import { StatsController } from './stats.controller';
import { StatsRepository } from './stats.repository';

@Module({
  imports: [AuthModule, RateLimitModule, RollupsModule, MetricsModule, RedisModule],
  controllers: [EventsQueryController, StatsController],
  providers: [EventsQueryRepository, StatsRepository, QueryDatabase, QueryCacheRepository, QueryCacheInterceptor],
})
export class QueryModule {}
