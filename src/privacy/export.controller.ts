import { BadRequestException, Controller, Get, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import type { Actor } from '../audit/actor';
import { CurrentActor } from '../audit/actor';
import { KeyProtected } from '../auth/key-protected.decorator';
import { ExportService } from './export.service';
import { ExportQueryDto } from './privacy.dto';

@KeyProtected('privacy', ['admin'], 'Not an admin key')
@Controller('v1/admin/privacy/exports')
export class ExportController {
  constructor(private readonly exports: ExportService) {}

  @Get()
  @ApiOperation({
    summary: 'Data portability: every stored event of a person, as NDJSON, streamed',
    description:
      'The first line describes the export (the person, the anonymousIds linked to a userId through identify and alias); then one stored event per line, oldest first; then {"end":{"events":N}}. Streamed through a database cursor: memory stays constant whatever the volume.',
  })
  @ApiProduces('application/x-ndjson')
  @ApiOkResponse({ description: 'NDJSON: a header line, the events, an end line' })
  async export(@Query() q: ExportQueryDto, @CurrentActor() actor: Actor, @Res() reply: FastifyReply): Promise<void> {
    if ((q.userId === undefined) === (q.anonymousId === undefined)) {
      throw new BadRequestException({ message: 'Give exactly one of userId and anonymousId.', reason: 'invalid_identity', field: 'userId' });
    }
    const lines = this.exports.lines({ userId: q.userId, anonymousId: q.anonymousId, sourceIds: q.sourceIds }, actor);
    // The header (and the audit row) first, so a failure there is still an ordinary error answer.
    const header = await lines.next();
    const out = new PassThrough();
    void reply.header('Content-Type', 'application/x-ndjson; charset=utf-8').header('Content-Disposition', 'attachment; filename="export.ndjson"').send(out);
    out.write(header.value);
    for await (const chunk of lines) {
      // Backpressure: the next page is read only once the client took this one.
      if (!out.write(chunk)) await Promise.race([once(out, 'drain'), once(reply.raw, 'close')]);
      if (reply.raw.destroyed) return void (await lines.return(undefined));
    }
    out.end();
  }
}
