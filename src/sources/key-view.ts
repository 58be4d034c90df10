import { ApiKeyEntity } from '../auth/api-key.entity';
import { KeySummaryDto } from './sources.dto';

export function keySummary(k: ApiKeyEntity): KeySummaryDto {
  return {
    id: k.id,
    keyId: k.keyId,
    kind: k.kind,
    prefix: `sk_${k.kind}_${k.keyId}_`,
    name: k.name,
    sourceId: k.sourceId,
    sourceIds: k.sourceIds,
    createdAt: k.createdAt,
    expiresAt: k.expiresAt,
    revokedAt: k.revokedAt,
    lastUsedAt: k.lastUsedAt,
    rotatedFrom: k.rotatedFrom,
  };
}
