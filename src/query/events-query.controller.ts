import { BadRequestException, Controller, Get, NotFoundException, Param, ParseUUIDPipe, Query, UseInterceptors } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam } from '@nestjs/swagger';
import { KeyProtected } from '../auth/key-protected.decorator';
import { AppConfig } from '../config';
import { clientTime } from '../domain/events/timestamps';
import { ApiFieldFilters } from './api-field-filters';
import { FieldFilter, FieldFilters, FieldFiltersInterceptor } from './event-filters';
import { EventsQueryRepository } from './events-query.repository';
import { EventsPageDto, EventsQueryDto, ReceiptDto } from './query.dto';
import { QueryCacheInterceptor, Uncached } from './query-cache.interceptor';

// What encodeCursor writes: toISOString of a stored timestamp (years 0001-9999).
const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * A nextCursor, [timestamp, messageId], exactly as encodeCursor wrote it. Anything else is a 400
 * here: Date.parse reads times PostgreSQL refuses ("1", "+275760-09-13T00:00:00.000Z") and a
 * messageId may hold a NUL, which used to reach the query as a database data error.
 */
function decodeCursor(cursor: string): { timestamp: string; messageId: string } {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(decoded) || decoded.length !== 2) throw new Error('shape');
    const [timestamp, messageId] = decoded as unknown[];
    if (typeof timestamp !== 'string' || !CURSOR_TIME.test(timestamp) || clientTime(timestamp) === null) throw new Error('time');
    if (typeof messageId !== 'string' || messageId.includes('\u0000') || !messageId.isWellFormed()) throw new Error('messageId');
    return { timestamp, messageId };
  } catch {
    throw new BadRequestException('cursor must be the nextCursor of a previous page');
  }
}

const encodeCursor = (last: { timestamp: Date; messageId: string }) => Buffer.from(JSON.stringify([last.timestamp.toISOString(), last.messageId])).toString('base64url');

@KeyProtected('query', ['read', 'admin'], 'A write key, or a read key not scoped to this source')
@Controller('v1/sources/:sourceId/events')
@UseInterceptors(QueryCacheInterceptor)
@Uncached()
export class EventsQueryController {
  constructor(
    private readonly events: EventsQueryRepository,
    private readonly config: AppConfig,
  ) {}

  @Get()
  @UseInterceptors(FieldFiltersInterceptor)
  @ApiFieldFilters()
  @ApiOperation({ summary: "A source's stored events, newest first, filtered, with cursor pagination (keyset, never OFFSET)" })
  @ApiOkResponse({ type: EventsPageDto })
  async list(@Param('sourceId', ParseUUIDPipe) sourceId: string, @Query() q: EventsQueryDto, @FieldFilters() fields: FieldFilter[]): Promise<EventsPageDto> {
    const limit = q.limit ?? 100;
    const rows = await this.events.find({
      sourceId,
      from: q.from,
      to: q.to,
      type: q.type,
      event: q.event,
      userId: q.userId,
      anonymousId: q.anonymousId,
      fields,
      before: q.cursor ? decodeCursor(q.cursor) : undefined,
      limit: limit + 1,
    });
    const items = rows.slice(0, limit);
    const last = items[items.length - 1] as { timestamp: Date; messageId: string } | undefined;
    return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  }

  @Get(':messageId')
  @ApiOperation({
    summary: 'The receipt: where one event is',
    description: 'The stored event, or that it was dead-lettered (reason, when, dead-letter id). 404 says which of the other cases it can be: unknown, not written yet, or no longer held.',
  })
  @ApiParam({ name: 'messageId', example: 'ajs-next-1764700000000-5a1b' })
  @ApiOkResponse({ type: ReceiptDto })
  @ApiNotFoundResponse({ description: 'Neither stored nor dead-lettered (the message says what that can mean)' })
  async receipt(@Param('sourceId', ParseUUIDPipe) sourceId: string, @Param('messageId') messageId: string): Promise<ReceiptDto> {
    const r = await this.events.receipt(sourceId, messageId);
    if (r.stored) return { messageId, status: 'stored', event: r.stored, ...(r.deadLetter ? { deadLetter: r.deadLetter } : {}) };
    if (r.deadLetter) return { messageId, status: 'dead_lettered', deadLetter: r.deadLetter };
    if (r.firstSeenAt) {
      throw new NotFoundException({
        message: `Event ${messageId} was stored (first seen ${r.firstSeenAt.toISOString()}) but is no longer held: it fell out of the retention window (RETENTION_DAYS=${this.config.retentionDays}) or was deleted.`,
        reason: 'no_longer_held',
      });
    }
    throw new NotFoundException({
      message: `No event ${messageId} in this source, stored or dead-lettered. Either Sluice never accepted it (check the response your client got, and the source), or it is not written yet: an accepted event is written within seconds of its 200, so ask again shortly.`,
      reason: 'unknown_or_not_yet_written',
    });
  }
}
