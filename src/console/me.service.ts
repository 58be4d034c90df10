import { Injectable } from '@nestjs/common';
import { canReadSource, type KeyPrincipal } from '../domain/principal';
import { SourcesRepository } from '../sources/sources.repository';

export interface Me {
  id: string;
  keyId: string;
  kind: string;
  sourceId: string | null;
  sourceIds: string[] | null;
  sources: { id: string; name: string }[];
}

@Injectable()
export class MeService {
  constructor(private readonly sources: SourcesRepository) {}

  /** The key and the sources it may reach: read and admin keys the ones they may read, a write key its own. */
  async describe(key: KeyPrincipal): Promise<Me> {
    const all = await this.sources.list();
    const reachable = all.filter((s) => (key.kind === 'write' ? s.id === key.sourceId : canReadSource(key, s.id)));
    return {
      id: key.id,
      keyId: key.keyId,
      kind: key.kind,
      sourceId: key.sourceId,
      sourceIds: key.kind === 'admin' ? null : key.sourceIds,
      sources: reachable.map((s) => ({ id: s.id, name: s.name })),
    };
  }
}
