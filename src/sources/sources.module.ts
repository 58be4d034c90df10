import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { RateLimitModule } from '../ratelimit/rate-limit.module';
import { KeysController } from './keys.controller';
import { KeysService } from './keys.service';
import { SourcesController } from './sources.controller';
import { SourcesRepository } from './sources.repository';
import { SourcesService } from './sources.service';

@Module({
  imports: [AuthModule, AuditModule, RateLimitModule],
  controllers: [SourcesController, KeysController],
  providers: [SourcesRepository, SourcesService, KeysService],
  exports: [SourcesService, KeysService, SourcesRepository],
})
export class SourcesModule {}
