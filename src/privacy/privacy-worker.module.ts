import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module';
import { DeletionRunner } from './deletion.runner';
import { DeletionsRepository } from './deletions.repository';
import { ExportRepository } from './export.repository';

/** The worker's part of privacy: carrying out deletion requests. */
@Module({
  imports: [MetricsModule],
  providers: [DeletionsRepository, ExportRepository, DeletionRunner],
  exports: [DeletionRunner],
})
export class PrivacyWorkerModule {}
