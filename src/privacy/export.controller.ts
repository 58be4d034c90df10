import { BadRequestException, Controller, Get, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import type { Actor } from '../audit/actor';
import { CurrentActor } from '../audit/actor';
import { AuditRepository } from '../audit/audit.repository';
import { KeyProtected } from '../auth/key-protected.decorator';
import { ExportRepository } from './export.repository';
import { ExportQueryDto } from './privacy.dto';
import { identityHash } from './suppressions.service';

@KeyProtected('privacy', ['admin'], 'Not an admin key')
@Controller('v1/admin/privacy/exports')
export class ExportController {
  constructor(
    private readonly exports: ExportRepository,
    private readonly audit: AuditRepository,
  ) {}

  @Get()
  @ApiOperation({
    summary: "Data portability: every stored event of a person, as NDJSON, streamed",
    description:
      'The first line describes the export (the person, the anonymousIds linked to a userId through identify and alias); then one stored event per line, oldest first. Streamed through a database cursor: memory stays constant whatever the volume.',
  })
  @ApiProduces('application/x-ndjson')
  @ApiOkResponse({ description: 'NDJSON: a header line, then the events' })
  async export(@Query() q: ExportQueryDto, @CurrentActor() actor: Actor, @Res() reply: FastifyReply): Promise<void> {
    if ((q.userId === undefined) === (q.anonymousId === undefined)) {
      throw new BadRequestException({ message: 'Give exactly one of userId and anonymousId.', reason: 'invalid_identity', field: 'userId' });
    }
    const linked = q.userId !== undefined ? await this.exports.linkedAnonymousIds(q.userId, q.sourceIds) : [q.anonymousId!];
    await this.audit.append({
      ...actor,
      action: 'privacy.export',
      targetType: 'person',
      targetId: null,
      change: { identity: identityHash(q.userId !== undefined ? 'userId' : 'anonymousId', (q.userId ?? q.anonymousId)!), sourceIds: q.sourceIds ?? null, linkedAnonymousIds: linked.length },
    });
    const out = new PassThrough();
    void reply.header('Content-Type', 'application/x-ndjson; charset=utf-8').header('Content-Disposition', 'attachment; filename="export.ndjson"').send(out);
    let count = 0;
    try {
      out.write(`${JSON.stringify({ export: { userId: q.userId ?? null, anonymousId: q.anonymousId ?? null, linkedAnonymousIds: q.userId !== undefined ? linked : [], sourceIds: q.sourceIds ?? null, at: new Date().toISOString() } })}\n`);
      for await (const page of this.exports.events({ userId: q.userId, anonymousId: q.anonymousId, sourceIds: q.sourceIds }, linked)) {
        let chunk = '';
        for (const e of page) chunk += `${JSON.stringify(e)}\n`;
        count += page.length;
        // Backpressure: the next page is read only once the client took this one.
        if (!out.write(chunk)) await Promise.race([once(out, 'drain'), once(reply.raw, 'close')]);
        if (reply.raw.destroyed) return;
      }
      out.end(`${JSON.stringify({ end: { events: count } })}\n`);
    } catch (err) {
      // The status is sent already: end the stream with what went wrong, as its last line.
      out.end(`${JSON.stringify({ error: { message: `the export stopped after ${count} events: ${(err as Error).message}` } })}\n`);
    }
  }
}
