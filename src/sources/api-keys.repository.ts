import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ApiKeyEntity, KeyKind } from './api-key.entity';

export interface VerifiedKey {
  id: string;
  keyId: string;
  kind: KeyKind;
  sourceId: string | null;
}

@Injectable()
export class ApiKeysRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  create(
    input: { keyId: string; kind: KeyKind; sourceId: string | null; name?: string | null; hash: Buffer },
    manager: EntityManager = this.db.manager,
  ): Promise<ApiKeyEntity> {
    const repo = manager.getRepository(ApiKeyEntity);
    return repo.save(repo.create({ keyId: input.keyId, kind: input.kind, sourceId: input.sourceId, name: input.name ?? null, secretHash: input.hash }));
  }

  /** The key with this hash if it is usable now (not revoked, not expired). */
  async findActiveByHash(hash: Buffer): Promise<VerifiedKey | null> {
    const rows: { id: string; key_id: string; kind: KeyKind; source_id: string | null }[] = await this.db.query(
      `SELECT id, key_id, kind, source_id FROM api_keys
        WHERE secret_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
      [hash],
    );
    const r = rows[0];
    return r ? { id: r.id, keyId: r.key_id, kind: r.kind, sourceId: r.source_id } : null;
  }

  listForSource(sourceId: string): Promise<ApiKeyEntity[]> {
    return this.db.getRepository(ApiKeyEntity).find({ where: { sourceId }, order: { createdAt: 'ASC' } });
  }
}
