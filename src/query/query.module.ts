import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { RateLimitModule } from '../ratelimit/rate-limit.module';
import { EventsQueryController } from './events-query.controller';
import { EventsQueryRepository } from './events-query.repository';

@Module({
  imports: [AuthModule, RateLimitModule],
  controllers: [EventsQueryController],
  providers: [EventsQueryRepository],
})
export class QueryModule {}
