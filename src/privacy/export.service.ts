import { Injectable } from '@nestjs/common';
import type { Actor } from '../audit/actor';
import { AuditRepository } from '../audit/audit.repository';
import { ExportRepository, ExportSubject } from './export.repository';
import { identityHash } from './suppressions.service';

/**
 * A person's export as NDJSON lines: a header (the person, the anonymousIds linked to a userId),
 * one line per stored event, oldest first, and an end line with the count. Audited (with a hash
 * of the identifier) before the first line. The API streams it, the CLI writes it to stdout.
 */
@Injectable()
export class ExportService {
  constructor(
    private readonly exports: ExportRepository,
    private readonly audit: AuditRepository,
  ) {}

  async *lines(subject: ExportSubject, actor: Actor): AsyncGenerator<string> {
    const { userId, anonymousId, sourceIds } = subject;
    const linked = userId !== undefined ? await this.exports.linkedAnonymousIds(userId, sourceIds) : [anonymousId!];
    await this.audit.append({
      ...actor,
      action: 'privacy.export',
      targetType: 'person',
      targetId: null,
      change: { identity: identityHash(userId !== undefined ? 'userId' : 'anonymousId', (userId ?? anonymousId)!), sourceIds: sourceIds ?? null, linkedAnonymousIds: linked.length },
    });
    yield `${JSON.stringify({ export: { userId: userId ?? null, anonymousId: anonymousId ?? null, linkedAnonymousIds: userId !== undefined ? linked : [], sourceIds: sourceIds ?? null, at: new Date().toISOString() } })}\n`;
    let events = 0;
    try {
      for await (const page of this.exports.events(subject, linked)) {
        let chunk = '';
        for (const e of page) chunk += `${JSON.stringify(e)}\n`;
        events += page.length;
        yield chunk;
      }
    } catch (err) {
      // The answer has started: the stream ends with what went wrong, as its last line.
      yield `${JSON.stringify({ error: { message: `the export stopped after ${events} events: ${(err as Error).message}` } })}\n`;
      return;
    }
    yield `${JSON.stringify({ end: { events } })}\n`;
  }
}
