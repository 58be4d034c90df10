import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { IngestModule } from '../ingest/ingest.module';
import { MetricsModule } from '../metrics/metrics.module';
import { RateLimitModule } from '../ratelimit/rate-limit.module';
import { DeadLetterStoreRepository } from './dead-letter-store.repository';
import { DeadLettersController } from './dead-letters.controller';
import { DeadLettersService } from './dead-letters.service';

/** Dead letters for operators: list, inspect, fix, replay, discard (admin key). */
@Module({
  imports: [AuthModule, RateLimitModule, AuditModule, IngestModule, MetricsModule],
  controllers: [DeadLettersController],
  providers: [DeadLetterStoreRepository, DeadLettersService],
  exports: [DeadLettersService, DeadLetterStoreRepository],
})
export class DeadLettersModule {}
