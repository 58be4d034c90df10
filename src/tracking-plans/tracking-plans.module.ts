import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { MetricsModule } from '../metrics/metrics.module';
import { RateLimitModule } from '../ratelimit/rate-limit.module';
import { RedisModule } from '../redis/redis.module';
import { SourcesModule } from '../sources/sources.module';
import { PlanRegistry } from './plan-registry.service';
import { SourcePlanController, TrackingPlansController } from './tracking-plans.controller';
import { TrackingPlansRepository } from './tracking-plans.repository';
import { TrackingPlansService } from './tracking-plans.service';
import { ViolationsController } from './violations.controller';
import { ViolationsRecorder } from './violations.recorder';
import { ViolationsRepository } from './violations.repository';

/** Tracking plans: versions, which source follows which, the plans in force in every api, and the violations report. */
@Module({
  imports: [AuthModule, RateLimitModule, AuditModule, MetricsModule, RedisModule, SourcesModule],
  controllers: [TrackingPlansController, SourcePlanController, ViolationsController],
  providers: [TrackingPlansRepository, TrackingPlansService, PlanRegistry, ViolationsRepository, ViolationsRecorder],
  exports: [TrackingPlansService, PlanRegistry, ViolationsRecorder],
})
export class TrackingPlansModule {}
