import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query, UseGuards, UsePipes, ValidationPipe } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Actor } from '../audit/actor';
import { CurrentActor } from '../audit/actor';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { AllowBootstrapToken, RequireKeyKind } from '../auth/auth.decorators';
import { ApiThrottlerGuard } from '../ratelimit/api-throttler.guard';
import { KeysService } from './keys.service';
import { CreatedKeyDto, CreateKeyDto, KeySummaryDto, ListKeysQueryDto, RotatedKeyDto, RotateKeyDto } from './sources.dto';

@ApiTags('admin')
@ApiBearerAuth('apiKey')
@ApiUnauthorizedResponse({ description: 'No, unknown, revoked or expired key' })
@ApiForbiddenResponse({ description: 'Not an admin key' })
@ApiTooManyRequestsResponse({ description: 'Over API_RATE_LIMIT_RPS for this key' })
@RequireKeyKind('admin')
@UseGuards(ApiKeyGuard, ApiThrottlerGuard)
@UsePipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true }))
@Controller('v1/admin/keys')
export class KeysController {
  constructor(private readonly keys: KeysService) {}

  @Post()
  @HttpCode(201)
  @AllowBootstrapToken()
  @ApiBearerAuth('adminToken')
  @ApiOperation({ summary: 'Create a key (shown once). ADMIN_TOKEN may create admin keys only.' })
  @ApiCreatedResponse({ type: CreatedKeyDto })
  @ApiBadRequestResponse({ description: 'Missing or unknown source for the kind' })
  create(@Body() body: CreateKeyDto, @CurrentActor() actor: Actor): Promise<CreatedKeyDto> {
    return this.keys.createKey(body, actor);
  }

  @Get()
  @ApiOperation({ summary: 'List keys (never their secrets)' })
  @ApiOkResponse({ type: [KeySummaryDto] })
  list(@Query() q: ListKeysQueryDto): Promise<KeySummaryDto[]> {
    return this.keys.listKeys({ kind: q.kind, sourceId: q.sourceId, includeRevoked: q.includeRevoked === 'true' });
  }

  @Get(':id')
  @ApiOperation({ summary: 'One key' })
  @ApiOkResponse({ type: KeySummaryDto })
  @ApiNotFoundResponse()
  get(@Param('id', ParseUUIDPipe) id: string): Promise<KeySummaryDto> {
    return this.keys.getKey(id);
  }

  @Post(':id/revoke')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke a key: refused by every api replica within seconds' })
  @ApiOkResponse({ type: KeySummaryDto })
  @ApiNotFoundResponse()
  revoke(@Param('id', ParseUUIDPipe) id: string, @CurrentActor() actor: Actor): Promise<KeySummaryDto> {
    return this.keys.revokeKey(id, actor);
  }

  @Post(':id/rotate')
  @HttpCode(201)
  @ApiOperation({ summary: 'Issue a successor key; the old one keeps working for overlapSeconds' })
  @ApiCreatedResponse({ type: RotatedKeyDto })
  @ApiNotFoundResponse()
  rotate(@Param('id', ParseUUIDPipe) id: string, @Body() body: RotateKeyDto, @CurrentActor() actor: Actor): Promise<RotatedKeyDto> {
    return this.keys.rotateKey(id, body.overlapSeconds, actor);
  }
}
