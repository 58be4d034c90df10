import { Module } from '@nestjs/common';
import { ApiKeysRepository } from '../sources/api-keys.repository';
import { AdminGuard } from './admin.guard';
import { CredentialsService } from './credentials.service';
import { WriteKeyGuard } from './write-key.guard';

@Module({
  providers: [ApiKeysRepository, CredentialsService, WriteKeyGuard, AdminGuard],
  exports: [ApiKeysRepository, CredentialsService, WriteKeyGuard, AdminGuard],
})
export class AuthModule {}
