import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module';
import { RedisModule } from '../redis/redis.module';
import { ApiKeyGuard } from './api-key.guard';
import { ApiKeysRepository } from './api-keys.repository';
import { CredentialsService } from './credentials.service';
import { KeyInvalidationService } from './key-invalidation.service';
import { WriteKeyGuard } from './write-key.guard';

/**
 * Who is calling: the key store (api_keys), the verified-key cache and its invalidation over
 * Redis pub/sub, and the guards. A module whose controllers use KeyProtected imports
 * RateLimitModule too (the per-key API throttler).
 */
@Module({
  imports: [RedisModule, MetricsModule],
  providers: [ApiKeysRepository, CredentialsService, KeyInvalidationService, WriteKeyGuard, ApiKeyGuard],
  exports: [ApiKeysRepository, CredentialsService, KeyInvalidationService, WriteKeyGuard, ApiKeyGuard],
})
export class AuthModule {}
