import { Injectable, NotFoundException } from '@nestjs/common';
import type { Actor } from '../audit/actor';
import { AuditRepository } from '../audit/audit.repository';
import { DeletionRow, DeletionsRepository } from './deletions.repository';
import { identityHash, SuppressionsService } from './suppressions.service';

export interface DeletionRequest {
  userId?: string;
  anonymousId?: string;
  sourceIds?: string[];
  /** Also suppress the person's future events (Segment's "suppress with delete"), before the deletion starts. */
  suppress?: boolean;
}

/**
 * Deletion requests (right to erasure): recorded here and carried out by a worker
 * (DeletionRunner), in batches beside ingestion. Audited with a hash of the identifier only.
 */
@Injectable()
export class DeletionsService {
  constructor(
    private readonly repo: DeletionsRepository,
    private readonly suppressions: SuppressionsService,
    private readonly audit: AuditRepository,
  ) {}

  async request(r: DeletionRequest, actor: Actor): Promise<DeletionRow> {
    const kind = r.userId !== undefined ? 'userId' : 'anonymousId';
    const id = (r.userId ?? r.anonymousId)!;
    const sourceIds = r.sourceIds ?? null;
    // Suppressed first: nothing the person sends from now on is stored behind the deletion's back.
    const suppression = r.suppress ? await this.suppressions.create(kind === 'userId' ? { userId: id } : { anonymousId: id }, sourceIds, actor) : null;
    const row = await this.repo.create({
      kind,
      hash: identityHash(kind, id),
      // The anonymousIds linked to a userId are found by the worker (a scan of the events).
      subject: { userId: kind === 'userId' ? id : null, anonymousIds: kind === 'anonymousId' ? [id] : [] },
      sourceIds,
      suppressionId: suppression?.id ?? null,
      requestedBy: actor.actorKeyId ?? actor.actorType,
    });
    await this.audit.append({ ...actor, action: 'privacy.delete', targetType: 'privacy_deletion', targetId: row.id, change: { identity: row.identity_hash, sourceIds, suppressionId: row.suppression_id } });
    return row;
  }

  async get(id: string): Promise<DeletionRow> {
    const row = await this.repo.get(id);
    if (!row) throw new NotFoundException(`No deletion request with id ${id}.`);
    return row;
  }

  list(limit = 100): Promise<DeletionRow[]> {
    return this.repo.list(limit);
  }
}
