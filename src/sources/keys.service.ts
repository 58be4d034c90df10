import { BadRequestException, ForbiddenException, Injectable, NotFoundException } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Actor } from '../audit/actor';
import { AuditRepository } from '../audit/audit.repository';
import { KeyInvalidationService } from '../auth/key-invalidation.service';
import { ApiKeysRepository } from '../auth/api-keys.repository';
import type { KeyKind } from '../domain/key-format';
import { generateKey } from '../domain/key-format';
import { keySummary } from './key-view';
import { CreatedKeyDto, KeySummaryDto, RotatedKeyDto } from './sources.dto';
import { SourcesRepository } from './sources.repository';

export interface NewKeySpec {
  kind: KeyKind;
  sourceId?: string;
  sourceIds?: string[];
  name?: string;
}

const DEFAULT_OVERLAP_SECONDS = 3600;

/** Creating, listing, revoking and rotating keys; every change is audited in its transaction. */
@Injectable()
export class KeysService {
  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly sources: SourcesRepository,
    private readonly audit: AuditRepository,
    private readonly invalidation: KeyInvalidationService,
  ) {}

  async createKey(spec: NewKeySpec, actor: Actor): Promise<CreatedKeyDto> {
    if (actor.actorType === 'admin_token' && spec.kind !== 'admin') {
      throw new ForbiddenException('ADMIN_TOKEN can only create admin keys; use an admin key for other kinds.');
    }
    const created = await this.sources.transaction(async (m) => {
      const key = await this.insertKey(spec, null, m);
      await this.audit.append({ ...actor, action: 'key.create', targetType: 'key', targetId: key.id, change: { kind: spec.kind, keyId: key.keyId, sourceId: key.sourceId, sourceIds: key.sourceIds, name: key.name } }, m);
      return key;
    });
    // Replicas remember unknown key ids for a while; a new key must work at once everywhere.
    await this.invalidation.publish('created');
    return created;
  }

  /** Inserts a key (inside the caller's transaction) after checking its scope. */
  async insertKey(spec: NewKeySpec, rotatedFrom: string | null, m: EntityManager): Promise<CreatedKeyDto> {
    if (spec.kind === 'write' && !spec.sourceId) throw new BadRequestException('A write key needs a sourceId.');
    if (spec.kind !== 'write' && spec.sourceId != null) throw new BadRequestException('Only write keys are bound to one source (use sourceIds for read keys).');
    if (spec.kind !== 'read' && spec.sourceIds != null) throw new BadRequestException('Only read keys take sourceIds.');
    const referenced = spec.sourceId ? [spec.sourceId] : (spec.sourceIds ?? []);
    const missing = await this.sources.missingIds(referenced, m);
    if (missing.length) throw new BadRequestException(`Unknown source id(s): ${missing.join(', ')}`);
    const g = generateKey(spec.kind);
    const saved = await this.keys.create({ keyId: g.keyId, kind: spec.kind, sourceId: spec.sourceId ?? null, sourceIds: spec.sourceIds ? [...new Set(spec.sourceIds)] : null, name: spec.name ?? null, hash: g.hash, rotatedFrom }, m);
    return { ...keySummary(saved), key: g.key };
  }

  async listKeys(filter: { kind?: KeyKind; sourceId?: string; includeRevoked?: boolean }): Promise<KeySummaryDto[]> {
    return (await this.keys.list(filter)).map(keySummary);
  }

  async getKey(id: string): Promise<KeySummaryDto> {
    const k = await this.keys.findById(id);
    if (!k) throw new NotFoundException(`No key with id ${id}.`);
    return keySummary(k);
  }

  async revokeKey(id: string, actor: Actor): Promise<KeySummaryDto> {
    const result = await this.sources.transaction(async (m) => {
      const before = await this.keys.findById(id, m);
      if (!before) throw new NotFoundException(`No key with id ${id}.`);
      const after = (await this.keys.revoke(id, m))!;
      await this.audit.append({ ...actor, action: 'key.revoke', targetType: 'key', targetId: id, change: { keyId: before.keyId, revokedAt: { from: before.revokedAt, to: after.revokedAt } } }, m);
      return keySummary(after);
    });
    await this.invalidation.publish();
    return result;
  }

  /** Issues a successor with the same kind and scope; the old key works until the deadline. */
  async rotateKey(id: string, overlapSeconds: number | undefined, actor: Actor): Promise<RotatedKeyDto> {
    const overlap = overlapSeconds ?? DEFAULT_OVERLAP_SECONDS;
    const result = await this.sources.transaction(async (m) => {
      const old = await this.keys.findById(id, m);
      if (!old) throw new NotFoundException(`No key with id ${id}.`);
      if (old.revokedAt) throw new BadRequestException('A revoked key cannot be rotated; create a new key instead.');
      const deadline = new Date(Date.now() + overlap * 1000);
      await this.keys.setExpiry(id, deadline, m);
      const fresh = await this.insertKey({ kind: old.kind, sourceId: old.sourceId ?? undefined, sourceIds: old.sourceIds ?? undefined, name: old.name ?? undefined }, old.id, m);
      const expires = (await this.keys.findById(id, m))!.expiresAt!;
      await this.audit.append({ ...actor, action: 'key.rotate', targetType: 'key', targetId: id, change: { keyId: old.keyId, newKeyId: fresh.keyId, newId: fresh.id, previousKeyExpiresAt: expires } }, m);
      return { ...fresh, previousKeyExpiresAt: expires };
    });
    await this.invalidation.publish();
    return result;
  }
}
