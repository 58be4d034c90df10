import { Module } from '@nestjs/common';
import { ApiKeysRepository } from '../sources/api-keys.repository';
import { ApiKeyGuard } from './api-key.guard';
import { CredentialsService } from './credentials.service';
import { KeyInvalidationService } from './key-invalidation.service';
import { WriteKeyGuard } from './write-key.guard';

@Module({
  providers: [ApiKeysRepository, CredentialsService, KeyInvalidationService, WriteKeyGuard, ApiKeyGuard],
  exports: [ApiKeysRepository, CredentialsService, KeyInvalidationService, WriteKeyGuard, ApiKeyGuard],
})
export class AuthModule {}
