import { applyDecorators, UseGuards, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { SafeValidationPipe } from '../common/safe-input';
import { ApiThrottlerGuard } from '../ratelimit/api-throttler.guard';
import type { KeyKind } from '../domain/key-format';
import { ApiKeyGuard } from './api-key.guard';
import { RequireKeyKind } from './auth.decorators';

/**
 * What every admin and query controller shares: Bearer-key auth for the given kinds (401/403),
 * the per-key API rate limit, strict DTO validation (with the one rule for text and numbers that
 * reach the database: src/common/safe-input.ts), and the matching OpenAPI description.
 */
export function KeyProtected(tag: string, kinds: KeyKind[], forbidden: string) {
  return applyDecorators(
    ApiTags(tag),
    ApiBearerAuth('apiKey'),
    ApiUnauthorizedResponse({ description: 'No, unknown, revoked or expired key' }),
    ApiForbiddenResponse({ description: forbidden }),
    ApiTooManyRequestsResponse({ description: 'Over API_RATE_LIMIT_RPS for this key' }),
    RequireKeyKind(...kinds),
    UseGuards(ApiKeyGuard, ApiThrottlerGuard),
    UsePipes(new SafeValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true })),
  );
}
