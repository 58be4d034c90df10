import { Module } from '@nestjs/common';
import { DeadLettersRepository } from './dead-letters.repository';
import { EventsRepository } from './events.repository';
import { MaintenanceService } from './maintenance.service';
import { PersistEventsProcessor } from './persist-events.processor';

@Module({
  providers: [EventsRepository, DeadLettersRepository, PersistEventsProcessor, MaintenanceService],
  exports: [PersistEventsProcessor],
})
export class ProcessingModule {}
