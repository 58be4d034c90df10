import { Module } from '@nestjs/common';
import { ProcessingModule } from '../processing/processing.module';

/** ROLE=worker: queue consumers and scheduled maintenance. */
@Module({ imports: [ProcessingModule] })
export class WorkerModule {}
