import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { RateLimitModule } from '../ratelimit/rate-limit.module';
import { AuditController } from './audit.controller';
import { AuditRepository } from './audit.repository';

@Module({
  imports: [AuthModule, RateLimitModule],
  controllers: [AuditController],
  providers: [AuditRepository],
  exports: [AuditRepository],
})
export class AuditModule {}
