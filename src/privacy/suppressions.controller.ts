import { BadRequestException, Body, Controller, Delete, Get, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { Actor } from '../audit/actor';
import { CurrentActor } from '../audit/actor';
import { KeyProtected } from '../auth/key-protected.decorator';
import { CreateSuppressionDto, ListSuppressionsDto, SuppressionDto, SuppressionIdParams } from './privacy.dto';
import type { SuppressionRow } from './suppressions.repository';
import { SUPPRESSION_REFRESH_MS, SuppressionsService } from './suppressions.service';

const view = (r: SuppressionRow): SuppressionDto => ({ id: r.id, userId: r.user_id, anonymousId: r.anonymous_id, sourceIds: r.source_ids, createdAt: r.created_at, liftedAt: r.lifted_at });

@KeyProtected('privacy', ['admin'], 'Not an admin key')
@Controller('v1/admin/privacy/suppressions')
export class SuppressionsController {
  constructor(private readonly suppressions: SuppressionsService) {}

  @Post()
  @ApiOperation({
    summary: "Suppress a person: ingestion drops their future events (counted in sluice_events_suppressed_total, neither stored nor dead-lettered)",
    description: `In force on every api replica within ${SUPPRESSION_REFRESH_MS / 1000} s (each reloads the list that often). A suppressed event is answered in "suppressed", not in "accepted".`,
  })
  @ApiCreatedResponse({ type: SuppressionDto })
  async create(@Body() body: CreateSuppressionDto, @CurrentActor() actor: Actor): Promise<SuppressionDto> {
    if ((body.userId === undefined) === (body.anonymousId === undefined)) {
      throw new BadRequestException({ message: 'Give exactly one of userId and anonymousId.', reason: 'invalid_identity', field: 'userId' });
    }
    return view(await this.suppressions.create({ userId: body.userId, anonymousId: body.anonymousId }, body.sourceIds ?? null, actor));
  }

  @Get()
  @ApiOperation({ summary: 'Suppressions in force (all=true: lifted ones too), newest first' })
  @ApiOkResponse({ type: [SuppressionDto] })
  async list(@Query() q: ListSuppressionsDto): Promise<SuppressionDto[]> {
    return (await this.suppressions.list(q.all ?? false)).map(view);
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Lift a suppression: the person\'s events are accepted again (on every replica within a few seconds)' })
  @ApiOkResponse({ type: SuppressionDto })
  async lift(@Param() p: SuppressionIdParams, @CurrentActor() actor: Actor): Promise<SuppressionDto> {
    return view(await this.suppressions.lift(p.id, actor));
  }
}
