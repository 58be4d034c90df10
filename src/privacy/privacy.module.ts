import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { MetricsModule } from '../metrics/metrics.module';
import { RateLimitModule } from '../ratelimit/rate-limit.module';
import { ExportController } from './export.controller';
import { ExportRepository } from './export.repository';
import { ExportService } from './export.service';
import { SuppressionsController } from './suppressions.controller';
import { SuppressionsRepository } from './suppressions.repository';
import { SuppressionsService } from './suppressions.service';

/** Privacy requests: suppression of a person's future events, export of their stored ones (admin key). */
@Module({
  imports: [AuthModule, RateLimitModule, AuditModule, MetricsModule],
  controllers: [SuppressionsController, ExportController],
  providers: [SuppressionsRepository, SuppressionsService, ExportRepository, ExportService],
  exports: [SuppressionsService, ExportService],
})
export class PrivacyModule {}
