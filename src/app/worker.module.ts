import { Module } from '@nestjs/common';
import { PrivacyWorkerModule } from '../privacy/privacy-worker.module';
import { ProcessingModule } from '../processing/processing.module';

/** ROLE=worker: queue consumers, scheduled maintenance and retention, privacy deletions. */
@Module({ imports: [ProcessingModule, PrivacyWorkerModule] })
export class WorkerModule {}
