import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module';
import { RetentionRepository } from './retention.repository';
import { RetentionScheduler } from './retention.scheduler';
import { RetentionService } from './retention.service';
import { ScheduledRunsRepository } from './scheduled-runs.repository';

/** Retention: the pass, its schedule and its record. The CLI uses it to run a pass now. */
@Module({
  imports: [MetricsModule],
  providers: [RetentionRepository, RetentionService, ScheduledRunsRepository, RetentionScheduler],
  exports: [RetentionScheduler, ScheduledRunsRepository],
})
export class LifecycleModule {}
