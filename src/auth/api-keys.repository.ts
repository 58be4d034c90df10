import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { KeyPrincipal } from '../domain/principal';
import type { KeyKind } from '../domain/key-format';
import { ApiKeyEntity } from './api-key.entity';

@Injectable()
export class ApiKeysRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  create(
    input: { keyId: string; kind: KeyKind; sourceId?: string | null; sourceIds?: string[] | null; name?: string | null; hash: Buffer; rotatedFrom?: string | null },
    manager: EntityManager = this.db.manager,
  ): Promise<ApiKeyEntity> {
    const repo = manager.getRepository(ApiKeyEntity);
    return repo.save(
      repo.create({
        keyId: input.keyId,
        kind: input.kind,
        sourceId: input.sourceId ?? null,
        sourceIds: input.sourceIds ?? null,
        name: input.name ?? null,
        secretHash: input.hash,
        rotatedFrom: input.rotatedFrom ?? null,
      }),
    );
  }

  findById(id: string, manager: EntityManager = this.db.manager): Promise<ApiKeyEntity | null> {
    return manager.getRepository(ApiKeyEntity).findOneBy({ id });
  }

  list(filter: { kind?: KeyKind; sourceId?: string; includeRevoked?: boolean }): Promise<ApiKeyEntity[]> {
    const qb = this.db.getRepository(ApiKeyEntity).createQueryBuilder('k').orderBy('k.created_at', 'ASC');
    if (filter.kind) qb.andWhere('k.kind = :kind', { kind: filter.kind });
    if (filter.sourceId) qb.andWhere('(k.source_id = :sid OR :sid = ANY(k.source_ids))', { sid: filter.sourceId });
    if (!filter.includeRevoked) qb.andWhere('k.revoked_at IS NULL');
    return qb.getMany();
  }

  async revoke(id: string, manager: EntityManager): Promise<ApiKeyEntity | null> {
    await manager.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [id]);
    return this.findById(id, manager);
  }

  async setExpiry(id: string, expiresAt: Date, manager: EntityManager): Promise<void> {
    // Never extends a deadline that is already earlier.
    await manager.query('UPDATE api_keys SET expires_at = LEAST(COALESCE(expires_at, $2), $2) WHERE id = $1', [id, expiresAt]);
  }

  /** One statement for every key used since the last flush (never a write per request). */
  async touchLastUsed(ids: string[], at: Date): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query(
      'UPDATE api_keys SET last_used_at = GREATEST(COALESCE(last_used_at, $2), $2) WHERE id = ANY($1::uuid[])',
      [ids, at],
    );
  }

  /**
   * The key with this visible key id, with its hash and whether it is usable now (not revoked,
   * not expired); null when no key has that id. The caller compares the hash in constant time.
   */
  async findByKeyId(keyId: string): Promise<{ hash: Buffer; active: boolean; principal: KeyPrincipal } | null> {
    const rows: {
      id: string; key_id: string; kind: KeyKind; source_id: string | null; source_ids: string[] | null; secret_hash: Buffer; active: boolean;
      rate_limit_rps: number | null; rate_limit_eps: number | null; daily_event_quota: string | null; retention_days: number | null;
    }[] = await this.db.query(
      `SELECT k.id, k.key_id, k.kind, k.source_id, k.source_ids, k.secret_hash,
              (k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())) AS active,
              s.rate_limit_rps, s.rate_limit_eps, s.daily_event_quota, s.retention_days
         FROM api_keys k LEFT JOIN sources s ON s.id = k.source_id
        WHERE k.key_id = $1`,
      [keyId],
    );
    const r = rows[0];
    if (!r) return null;
    return {
      hash: r.secret_hash,
      active: r.active,
      principal: {
        type: 'key',
        id: r.id,
        keyId: r.key_id,
        kind: r.kind,
        sourceId: r.source_id,
        sourceIds: r.source_ids,
        limits: { rps: r.rate_limit_rps, eps: r.rate_limit_eps, dailyQuota: r.daily_event_quota === null ? null : Number(r.daily_event_quota), retentionDays: r.retention_days },
      },
    };
  }

  listForSource(sourceId: string): Promise<ApiKeyEntity[]> {
    return this.listForSources([sourceId]);
  }

  /** The keys of these sources, oldest first, in one query (the source list would otherwise cost one per source). */
  listForSources(sourceIds: string[]): Promise<ApiKeyEntity[]> {
    if (sourceIds.length === 0) return Promise.resolve([]);
    return this.db.getRepository(ApiKeyEntity).find({ where: { sourceId: In(sourceIds) }, order: { createdAt: 'ASC' } });
  }
}
