import { Controller, Get, Param, ParseUUIDPipe, Query, Req, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiServiceUnavailableResponse } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { extractBearer } from '../auth/api-key.guard';
import { CredentialsService } from '../auth/credentials.service';
import { KeyProtected } from '../auth/key-protected.decorator';
import { canReadSource } from '../domain/principal';
import { LiveQueryDto } from './live.dto';
import { parseLiveFilter } from './live-filter';
import { LiveService } from './live.service';

@KeyProtected('live', ['read', 'admin'], 'A write key, or a read key not scoped to this source')
@Controller('v1/sources/:sourceId/live')
export class LiveController {
  constructor(
    private readonly live: LiveService,
    private readonly credentials: CredentialsService,
  ) {}

  @Get()
  @ApiOperation({
    summary: "Live debugger: a source's events as they are accepted, as Server-Sent Events",
    description:
      'First `event: hello` (`{"sourceId","maxEventsPerSecond"}`); then one `event: event` per accepted event (`id:` its messageId; data `{"messageId","type","name","receivedAt","payload"}`, the event as accepted and normalised, without write key), sampled to LIVE_MAX_EVENTS_PER_SECOND per source; `event: skipped` (`{"count":N}`, at most once a second) counts the events of the source sampling left out (counted before the filters apply); a `: ping` comment every 15 s. The stream ends when its key is revoked or expires. Send the key in the Authorization header (read fetch() as a stream in a browser, not EventSource).',
  })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: 'text/event-stream, open until the client disconnects or the instance shuts down' })
  @ApiBadRequestResponse({ description: 'A bad `type` or `event` (the body names the field) or an unknown parameter' })
  @ApiServiceUnavailableResponse({ description: 'This instance already serves LIVE_MAX_LISTENERS streams, or Redis is unreachable (Retry-After)' })
  async stream(@Param('sourceId', ParseUUIDPipe) sourceId: string, @Query() query: LiveQueryDto, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const filter = parseLiveFilter(query);
    // The guard let the key in; a stream outlives the request, so a revoked or expired key ends it.
    const presented = extractBearer(req) ?? '';
    const allowed = async () => {
      const key = await this.credentials.verify(presented, req.ip);
      return !!key && canReadSource(key, sourceId);
    };
    const stream = await this.live.open(sourceId, filter, allowed);
    reply.raw.once('close', () => stream.destroy());
    void reply.header('Content-Type', 'text/event-stream; charset=utf-8').header('Cache-Control', 'no-cache').header('X-Accel-Buffering', 'no').send(stream);
  }
}
