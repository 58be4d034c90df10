import { Body, Controller, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBadRequestResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { Actor } from '../audit/actor';
import { CurrentActor } from '../audit/actor';
import { KeyProtected } from '../auth/key-protected.decorator';
import type { DeadLetterRow, ReplayRow } from './dead-letter-store.repository';
import { DeadLetterStoreRepository } from './dead-letter-store.repository';
import { BulkDiscardDto, BulkDiscardResultDto, DeadLetterDto, DeadLetterFilterDto, DeadLetterIdParams, DeadLetterPageDto, DeadLetterQueryDto, FixDeadLetterDto, ReplayDto, ReplayIdsDto, ReplayOutcomeDto } from './dead-letters.dto';
import { DeadLettersService } from './dead-letters.service';

const view = (r: DeadLetterRow, full: boolean): DeadLetterDto => ({
  id: r.id,
  sourceId: r.source_id,
  messageId: r.message_id,
  requestId: r.request_id,
  jobId: r.job_id,
  attempts: r.attempts,
  reasonCode: r.reason_code,
  reason: r.reason,
  status: r.status,
  deadLetteredAt: r.created_at,
  updatedAt: r.updated_at,
  fixedAt: r.fixed_at,
  payload: full ? r.payload_text : r.payload_text.slice(0, 200),
});

const replayView = (r: ReplayRow): ReplayDto => ({
  id: r.id,
  status: r.status,
  filter: r.filter,
  matched: Number(r.matched),
  replayed: Number(r.replayed),
  rejected: Number(r.rejected),
  error: r.error,
  createdAt: r.created_at,
  finishedAt: r.finished_at,
});

@KeyProtected('admin', ['admin'], 'Not an admin key')
@Controller('v1/admin')
export class DeadLettersController {
  constructor(
    private readonly deadLetters: DeadLettersService,
    private readonly store: DeadLetterStoreRepository,
  ) {}

  @Get('dead-letters')
  @ApiOperation({ summary: 'Dead letters, newest first: filter by source, reason, status, time, text in the payload; cursor pagination' })
  @ApiOkResponse({ type: DeadLetterPageDto })
  async list(@Query() q: DeadLetterQueryDto): Promise<DeadLetterPageDto> {
    const limit = q.limit ?? 100;
    const rows = await this.store.list({ sourceId: q.sourceId, reason: q.reason, status: q.status, from: q.from, to: q.to, text: q.q }, limit + 1, q.cursor);
    const items = rows.slice(0, limit).map((r) => view(r, false));
    return { items, nextCursor: rows.length > limit ? items[items.length - 1].id : null };
  }

  @Get('dead-letters/:id')
  @ApiOperation({ summary: 'One dead letter with its original payload, byte for byte' })
  @ApiOkResponse({ type: DeadLetterDto })
  async get(@Param() p: DeadLetterIdParams): Promise<DeadLetterDto> {
    return view(await this.deadLetters.get(p.id), true);
  }

  @Put('dead-letters/:id/event')
  @ApiOperation({ summary: 'Fix: replace the event of a pending dead letter (validated as ingestion would); then replay it' })
  @ApiOkResponse({ type: DeadLetterDto })
  async fix(@Param() p: DeadLetterIdParams, @Body() body: FixDeadLetterDto, @CurrentActor() actor: Actor): Promise<DeadLetterDto> {
    return view(await this.deadLetters.fix(p.id, body.event, actor), true);
  }

  @Post('dead-letters/:id/replay')
  @HttpCode(200)
  @ApiOperation({ summary: 'Replay one pending dead letter through ingestion (idempotent: stored once)' })
  @ApiOkResponse({ type: ReplayOutcomeDto })
  replayOne(@Param() p: DeadLetterIdParams, @CurrentActor() actor: Actor): Promise<ReplayOutcomeDto> {
    return this.deadLetters.replay([p.id], actor);
  }

  @Post('dead-letters/replay')
  @HttpCode(200)
  @ApiOperation({ summary: 'Replay a list of pending dead letters (up to 100) through ingestion' })
  @ApiOkResponse({ type: ReplayOutcomeDto })
  replayList(@Body() body: ReplayIdsDto, @CurrentActor() actor: Actor): Promise<ReplayOutcomeDto> {
    return this.deadLetters.replay([...new Set(body.ids)], actor);
  }

  @Post('dead-letters/discard')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Discard in bulk: every pending dead letter matching the filter (and/or among ids, up to 1000)',
    description: 'The same filter fields as the list (status is always pending: replayed and discarded letters are left as they are). Discarded letters are kept as evidence and never replayed. An empty filter without ids is refused (400 empty_filter). Audited as dead_letter.discard.',
  })
  @ApiOkResponse({ type: BulkDiscardResultDto })
  @ApiBadRequestResponse({ description: 'empty_filter: neither a filter field nor ids; or an invalid field' })
  discardMatching(@Body() body: BulkDiscardDto, @CurrentActor() actor: Actor): Promise<BulkDiscardResultDto> {
    return this.deadLetters.discardMatching({ sourceId: body.sourceId, reason: body.reason, from: body.from, to: body.to, text: body.q }, body.ids, actor);
  }

  @Post('dead-letters/:id/discard')
  @HttpCode(200)
  @ApiOperation({ summary: 'Discard a dead letter: it is kept as evidence, marked discarded, never replayed' })
  @ApiOkResponse({ type: DeadLetterDto })
  async discard(@Param() p: DeadLetterIdParams, @CurrentActor() actor: Actor): Promise<DeadLetterDto> {
    return view(await this.deadLetters.discard(p.id, actor), false);
  }

  @Post('dead-letter-replays')
  @HttpCode(202)
  @ApiOperation({ summary: 'Replay every pending dead letter matching a filter, in the background; GET it for progress. Running it again replays only what is still pending.' })
  @ApiAcceptedResponse({ type: ReplayDto })
  async replayAll(@Body() body: DeadLetterFilterDto, @CurrentActor() actor: Actor): Promise<ReplayDto> {
    return replayView(await this.deadLetters.startReplay({ sourceId: body.sourceId, reason: body.reason, from: body.from, to: body.to, text: body.q }, actor));
  }

  @Get('dead-letter-replays/:id')
  @ApiOperation({ summary: 'Progress of a background replay' })
  @ApiOkResponse({ type: ReplayDto })
  async getReplay(@Param() p: DeadLetterIdParams): Promise<ReplayDto> {
    return replayView(await this.deadLetters.getReplay(p.id));
  }
}
