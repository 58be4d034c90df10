import { BadRequestException, Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { Actor } from '../audit/actor';
import { CurrentActor } from '../audit/actor';
import { KeyProtected } from '../auth/key-protected.decorator';
import type { DeletionRow } from './deletions.repository';
import { DeletionsService } from './deletions.service';
import { CreateDeletionDto, DeletionDto, DeletionIdParams } from './privacy.dto';

export const deletionView = (r: DeletionRow): DeletionDto => ({
  id: r.id,
  identity: { kind: r.identity_kind, sha256: r.identity_hash },
  sourceIds: r.source_ids,
  suppressionId: r.suppression_id,
  status: r.status,
  attempts: r.attempts,
  progress: r.progress,
  verification: r.verification,
  lastError: r.last_error,
  createdAt: r.created_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
});

@KeyProtected('privacy', ['admin'], 'Not an admin key')
@Controller('v1/admin/privacy/deletions')
export class DeletionsController {
  constructor(private readonly deletions: DeletionsService) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({
    summary: "Delete a person's data: their events and everything derived from them (a background job; GET it for progress and the verification record)",
    description:
      'A worker removes, in batches beside ingestion: the events of the userId (or anonymousId) and of the anonymousIds linked to a userId, their dedup claims, their share of the rollups (hourly counts, daily active users and their count) and their dead letters. It then re-checks that nothing remains and keeps a verification record, with the identifier only as a sha256 hash. suppress: true also drops their future events at ingestion.',
  })
  @ApiAcceptedResponse({ type: DeletionDto })
  async create(@Body() body: CreateDeletionDto, @CurrentActor() actor: Actor): Promise<DeletionDto> {
    if ((body.userId === undefined) === (body.anonymousId === undefined)) {
      throw new BadRequestException({ message: 'Give exactly one of userId and anonymousId.', reason: 'invalid_identity', field: 'userId' });
    }
    return deletionView(await this.deletions.request(body, actor));
  }

  @Get()
  @ApiOperation({ summary: 'The latest 100 deletion requests, newest first' })
  @ApiOkResponse({ type: [DeletionDto] })
  async list(): Promise<DeletionDto[]> {
    return (await this.deletions.list()).map(deletionView);
  }

  @Get(':id')
  @ApiOperation({ summary: 'A deletion request: status, progress and, when done, its verification record' })
  @ApiOkResponse({ type: DeletionDto })
  async get(@Param() p: DeletionIdParams): Promise<DeletionDto> {
    return deletionView(await this.deletions.get(p.id));
  }
}
