import { Injectable } from '@nestjs/common';
import { ApiKeysRepository } from './api-keys.repository';
import { generateKey } from './key-format';
import { CreatedSourceDto, SourceDto } from './sources.dto';
import { SourcesRepository } from './sources.repository';

@Injectable()
export class SourcesService {
  constructor(
    private readonly sources: SourcesRepository,
    private readonly keys: ApiKeysRepository,
  ) {}

  /** Creates a source and its first write key together; the key is returned only here. */
  createSource(name: string): Promise<CreatedSourceDto> {
    return this.sources.transaction(async (manager) => {
      const source = await this.sources.create(name.trim(), manager);
      const key = generateKey('write');
      await this.keys.create({ keyId: key.keyId, kind: 'write', sourceId: source.id, hash: key.hash, name: 'default' }, manager);
      return { id: source.id, name: source.name, writeKey: key.key, createdAt: source.createdAt };
    });
  }

  async listSources(): Promise<SourceDto[]> {
    const sources = await this.sources.list();
    return Promise.all(
      sources.map(async (s) => ({
        id: s.id,
        name: s.name,
        createdAt: s.createdAt,
        writeKeys: (await this.keys.listForSource(s.id)).map((k) => ({
          keyId: k.keyId,
          prefix: `sk_${k.kind}_${k.keyId}_`,
          createdAt: k.createdAt,
          lastUsedAt: k.lastUsedAt,
          revokedAt: k.revokedAt,
        })),
      })),
    );
  }
}
