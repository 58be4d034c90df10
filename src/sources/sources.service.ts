import { Injectable, NotFoundException } from '@nestjs/common';
import { Actor } from '../audit/actor';
import { AppConfig } from '../config';
import { effectiveRetentionDays } from '../domain/events/timestamps';
import { AuditRepository } from '../audit/audit.repository';
import { KeyInvalidationService } from '../auth/key-invalidation.service';
import { ApiKeyEntity } from '../auth/api-key.entity';
import { ApiKeysRepository } from '../auth/api-keys.repository';
import { keySummary } from './key-view';
import { KeysService } from './keys.service';
import { SourceEntity } from './source.entity';
import { CreatedSourceDto, SourceDto, UpdateSourceDto } from './sources.dto';
import { SourcePatch, SourcesRepository } from './sources.repository';

const SETTINGS = ['rateLimitRps', 'rateLimitEps', 'dailyEventQuota', 'retentionDays'] as const;

@Injectable()
export class SourcesService {
  constructor(
    private readonly sources: SourcesRepository,
    private readonly keys: ApiKeysRepository,
    private readonly keysService: KeysService,
    private readonly audit: AuditRepository,
    private readonly invalidation: KeyInvalidationService,
    private readonly config: AppConfig,
  ) {}

  /** Creates a source and its first write key together; the key is returned only here. */
  async createSource(name: string, actor: Actor): Promise<CreatedSourceDto> {
    const created = await this.sources.transaction(async (m) => {
      const source = await this.sources.create(name.trim(), m);
      const key = await this.keysService.insertKey({ kind: 'write', sourceId: source.id, name: 'default' }, null, m);
      await this.audit.append({ ...actor, action: 'source.create', targetType: 'source', targetId: source.id, change: { name: source.name, writeKeyId: key.keyId } }, m);
      return { id: source.id, name: source.name, writeKey: key.key, createdAt: source.createdAt };
    });
    await this.invalidation.publish('created'); // the new write key works at once on every replica
    return created;
  }

  async listSources(): Promise<SourceDto[]> {
    const sources = await this.sources.list();
    const bySource = new Map<string, ApiKeyEntity[]>();
    for (const k of await this.keys.listForSources(sources.map((s) => s.id))) bySource.set(k.sourceId!, [...(bySource.get(k.sourceId!) ?? []), k]);
    return sources.map((s) => this.view(s, bySource.get(s.id) ?? []));
  }

  async getSource(id: string): Promise<SourceDto> {
    const s = await this.sources.findById(id);
    if (!s) throw new NotFoundException(`No source with id ${id}.`);
    return this.view(s, await this.keys.listForSource(s.id));
  }

  async updateSource(id: string, dto: UpdateSourceDto, actor: Actor): Promise<SourceDto> {
    const updated = await this.sources.transaction(async (m) => {
      const before = await this.sources.findById(id, m);
      if (!before) throw new NotFoundException(`No source with id ${id}.`);
      const patch: SourcePatch = {};
      const change: Record<string, { from: unknown; to: unknown }> = {};
      if (dto.name !== undefined && dto.name.trim() !== before.name) {
        patch.name = dto.name.trim();
        change.name = { from: before.name, to: patch.name };
      }
      for (const f of SETTINGS) {
        if (dto[f] !== undefined && dto[f] !== before[f]) {
          patch[f] = dto[f];
          change[f] = { from: before[f], to: dto[f] };
        }
      }
      const after = (await this.sources.update(id, patch, m))!;
      if (Object.keys(change).length) await this.audit.append({ ...actor, action: 'source.update', targetType: 'source', targetId: id, change }, m);
      return after;
    });
    // Limits and retention travel with cached keys: drop the caches so the new ones apply at once.
    await this.invalidation.publish();
    return this.view(updated, await this.keys.listForSource(id));
  }

  async deleteSource(id: string, actor: Actor): Promise<void> {
    await this.sources.transaction(async (m) => {
      const before = await this.sources.findById(id, m);
      if (!before || !(await this.sources.delete(id, m))) throw new NotFoundException(`No source with id ${id}.`);
      await this.audit.append({ ...actor, action: 'source.delete', targetType: 'source', targetId: id, change: { name: before.name } }, m);
    });
    await this.invalidation.publish();
  }

  private view(s: SourceEntity, keys: ApiKeyEntity[]): SourceDto {
    return {
      id: s.id,
      name: s.name,
      createdAt: s.createdAt,
      updatedAt: s.updatedAt,
      limits: { rateLimitRps: s.rateLimitRps, rateLimitEps: s.rateLimitEps, dailyEventQuota: s.dailyEventQuota },
      retention: { retentionDays: s.retentionDays, effectiveDays: effectiveRetentionDays(s.retentionDays, this.config.retentionDays) },
      writeKeys: keys.map(keySummary),
    };
  }
}
