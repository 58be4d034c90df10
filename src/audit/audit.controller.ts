import { Controller, Get, Query } from '@nestjs/common';
import { KeyProtected } from '../auth/key-protected.decorator';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { AuditPageDto, AuditQueryDto } from './audit.dto';
import { AuditRepository } from './audit.repository';

@KeyProtected('admin', ['admin'], 'Not an admin key')
@Controller('v1/admin/audit')
export class AuditController {
  constructor(private readonly audit: AuditRepository) {}

  @Get()
  @ApiOperation({ summary: 'Admin actions, newest first, with filters and cursor pagination' })
  @ApiOkResponse({ type: AuditPageDto })
  async list(@Query() q: AuditQueryDto): Promise<AuditPageDto> {
    const limit = q.limit ?? 100;
    const rows = await this.audit.find({
      from: q.from,
      to: q.to,
      action: q.action,
      actor: q.actor,
      target: q.target,
      beforeId: q.cursor,
      limit: limit + 1,
    });
    const items = rows.slice(0, limit);
    return { items, nextCursor: rows.length > limit ? items[items.length - 1].id : null };
  }
}
