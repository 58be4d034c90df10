import { Module } from '@nestjs/common';
import { LifecycleWorkerModule } from '../lifecycle/lifecycle-worker.module';
import { PrivacyWorkerModule } from '../privacy/privacy-worker.module';
import { ProcessingModule } from '../processing/processing.module';

/** ROLE=worker: queue consumers, scheduled maintenance and retention, privacy deletions. */
@Module({ imports: [ProcessingModule, PrivacyWorkerModule, LifecycleWorkerModule] })
export class WorkerModule {}
