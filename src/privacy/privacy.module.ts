import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { MetricsModule } from '../metrics/metrics.module';
import { RateLimitModule } from '../ratelimit/rate-limit.module';
import { DeletionsController } from './deletions.controller';
import { DeletionsRepository } from './deletions.repository';
import { DeletionsService } from './deletions.service';
import { ExportController } from './export.controller';
import { ExportRepository } from './export.repository';
import { ExportService } from './export.service';
import { SuppressionsController } from './suppressions.controller';
import { SuppressionsRepository } from './suppressions.repository';
import { SuppressionsService } from './suppressions.service';

/** Privacy requests (admin key): suppression of a person's future events, export and deletion of their stored ones (carried out by PrivacyWorkerModule). */
@Module({
  imports: [AuthModule, RateLimitModule, AuditModule, MetricsModule],
  controllers: [SuppressionsController, ExportController, DeletionsController],
  providers: [SuppressionsRepository, SuppressionsService, ExportRepository, ExportService, DeletionsRepository, DeletionsService],
  exports: [SuppressionsService, ExportService, DeletionsService],
})
export class PrivacyModule {}
