import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { MetricsModule } from '../metrics/metrics.module';
import { QueueModule } from '../queue/queue.module';
import { RateLimitModule } from '../ratelimit/rate-limit.module';
import { PrivacyModule } from '../privacy/privacy.module';
import { IngestController } from './ingest.controller';
import { IngestService } from './ingest.service';
import { PlanValidateController } from './plan-validate.controller';
import { TrackingPlansModule } from '../tracking-plans/tracking-plans.module';
import { LiveModule } from '../live/live.module';

@Module({
  imports: [AuthModule, RateLimitModule, QueueModule, MetricsModule, PrivacyModule, TrackingPlansModule, LiveModule],
  controllers: [IngestController, PlanValidateController],
  providers: [IngestService],
  exports: [IngestService],
})
export class IngestModule {}
