import { Controller, Get, Query, UseGuards, UsePipes, ValidationPipe } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { RequireKeyKind } from '../auth/auth.decorators';
import { ApiThrottlerGuard } from '../ratelimit/api-throttler.guard';
import { AuditPageDto, AuditQueryDto } from './audit.dto';
import { AuditRepository } from './audit.repository';

@ApiTags('admin')
@ApiBearerAuth('apiKey')
@ApiUnauthorizedResponse({ description: 'No or unknown key' })
@ApiForbiddenResponse({ description: 'Not an admin key' })
@RequireKeyKind('admin')
@UseGuards(ApiKeyGuard, ApiThrottlerGuard)
@UsePipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }))
@Controller('v1/admin/audit')
export class AuditController {
  constructor(private readonly audit: AuditRepository) {}

  @Get()
  @ApiOperation({ summary: 'Admin actions, newest first, with filters and cursor pagination' })
  @ApiOkResponse({ type: AuditPageDto })
  async list(@Query() q: AuditQueryDto): Promise<AuditPageDto> {
    const limit = q.limit ?? 100;
    const rows = await this.audit.find({ from: q.from, to: q.to, action: q.action, actor: q.actor, target: q.target, beforeId: q.cursor, limit: limit + 1 });
    const items = rows.slice(0, limit);
    return { items, nextCursor: rows.length > limit ? items[items.length - 1].id : null };
  }
}
