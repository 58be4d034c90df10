import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { KeyProtected } from '../auth/key-protected.decorator';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
} from '@nestjs/swagger';
import type { Actor } from '../audit/actor';
import { CurrentActor } from '../audit/actor';
import { AllowBootstrapToken } from '../auth/auth.decorators';
import { KeysService } from './keys.service';
import {
  CreatedKeyDto,
  CreateKeyDto,
  KeySummaryDto,
  ListKeysQueryDto,
  RotatedKeyDto,
  RotateKeyDto,
} from './sources.dto';

@KeyProtected('admin', ['admin'], 'Not an admin key')
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
    return this.keys.listKeys({
      kind: q.kind,
      sourceId: q.sourceId,
      includeRevoked: q.includeRevoked === 'true',
    });
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
  revoke(
    @Param('id', ParseUUIDPipe) id: string,
    @CurrentActor() actor: Actor,
  ): Promise<KeySummaryDto> {
    return this.keys.revokeKey(id, actor);
  }

  @Post(':id/rotate')
  @HttpCode(201)
  @ApiOperation({ summary: 'Issue a successor key; the old one keeps working for overlapSeconds' })
  @ApiCreatedResponse({ type: RotatedKeyDto })
  @ApiNotFoundResponse()
  rotate(
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: RotateKeyDto,
    @CurrentActor() actor: Actor,
  ): Promise<RotatedKeyDto> {
    return this.keys.rotateKey(id, body.overlapSeconds, actor);
  }
}
