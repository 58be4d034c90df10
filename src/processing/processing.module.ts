import { Module } from '@nestjs/common';
import { HealthModule } from '../health/health.module';
import { MetricsModule } from '../metrics/metrics.module';
import { QueueModule } from '../queue/queue.module';
import { DeadLettersRepository } from './dead-letters.repository';
import { EventsRepository } from './events.repository';
import { MaintenanceService } from './maintenance.service';
import { PersistEventsProcessor } from './persist-events.processor';

@Module({
  imports: [QueueModule, MetricsModule, HealthModule],
  providers: [EventsRepository, DeadLettersRepository, PersistEventsProcessor, MaintenanceService],
  exports: [PersistEventsProcessor],
})
export class ProcessingModule {}
