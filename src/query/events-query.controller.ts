import { BadRequestException, Controller, Get, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { KeyProtected } from '../auth/key-protected.decorator';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { EventsQueryRepository } from './events-query.repository';
import { EventsPageDto, EventsQueryDto } from './query.dto';

function decodeCursor(cursor: string): { timestamp: string; messageId: string } {
  try {
    const [timestamp, messageId] = JSON.parse(
      Buffer.from(cursor, 'base64url').toString('utf8'),
    ) as [string, string];
    if (typeof messageId !== 'string' || Number.isNaN(Date.parse(timestamp)))
      throw new Error('shape');
    return { timestamp, messageId };
  } catch {
    throw new BadRequestException('cursor must be the nextCursor of a previous page');
  }
}

@KeyProtected('query', ['read', 'admin'], 'A write key, or a read key not scoped to this source')
@Controller('v1/sources/:sourceId/events')
export class EventsQueryController {
  constructor(private readonly events: EventsQueryRepository) {}

  @Get()
  @ApiOperation({ summary: "A source's stored events, newest first, with cursor pagination" })
  @ApiOkResponse({ type: EventsPageDto })
  async list(
    @Param('sourceId', ParseUUIDPipe) sourceId: string,
    @Query() q: EventsQueryDto,
  ): Promise<EventsPageDto> {
    const limit = q.limit ?? 100;
    const rows = await this.events.find({
      sourceId,
      from: q.from,
      to: q.to,
      type: q.type,
      before: q.cursor ? decodeCursor(q.cursor) : undefined,
      limit: limit + 1,
    });
    const items = rows.slice(0, limit);
    const last = items[items.length - 1] as { timestamp: Date; messageId: string } | undefined;
    return {
      items,
      nextCursor:
        rows.length > limit && last
          ? Buffer.from(JSON.stringify([last.timestamp.toISOString(), last.messageId])).toString(
              'base64url',
            )
          : null,
    };
  }
}
