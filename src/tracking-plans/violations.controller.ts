import { BadRequestException, Controller, Get, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { KeyProtected } from '../auth/key-protected.decorator';
import { ViolationsQueryDto, ViolationsReportDto } from './tracking-plans.dto';
import { ViolationsRepository } from './violations.repository';

const MAX_RANGE_MS = 93 * 86_400_000;

@KeyProtected('tracking-plans', ['read', 'admin'], 'A write key, or a read key not scoped to this source')
@Controller('v1/sources/:sourceId/violations')
export class ViolationsController {
  constructor(private readonly violations: ViolationsRepository) {}

  @Get()
  @ApiOperation({
    summary: "Tracking-plan violations of a source's events, grouped by event and violation, with a sample event per group",
    description: 'Counted by the api as events arrive (whatever their mode: allow, flag, quarantine, drop), in UTC hours, written every 5 s. At most 93 days per request; the 1000 largest groups.',
  })
  @ApiOkResponse({ type: ViolationsReportDto })
  async report(@Param('sourceId', ParseUUIDPipe) sourceId: string, @Query() q: ViolationsQueryDto): Promise<ViolationsReportDto> {
    const from = new Date(q.from);
    const to = new Date(q.to);
    if (!(from < to)) throw new BadRequestException({ message: 'from must be before to', reason: 'invalid_range', field: 'from' });
    if (to.getTime() - from.getTime() > MAX_RANGE_MS) throw new BadRequestException({ message: 'at most 93 days per request', reason: 'range_too_wide', field: 'to' });
    const rows = await this.violations.report({ sourceId, from, to, event: q.event, type: q.type });
    return {
      groups: rows.map((r) => ({
        eventType: r.event_type, event: r.event, type: r.violation, keyword: r.keyword, instancePath: r.instance_path, action: r.action,
        count: Number(r.n), message: r.message, sample: r.sample, firstSeen: r.first_hour, lastSeen: r.last_hour,
      })),
    };
  }
}
