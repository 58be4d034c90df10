import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { SourceEntity } from './source.entity';

export type SourcePatch = Partial<Pick<SourceEntity, 'name' | 'rateLimitRps' | 'rateLimitEps' | 'dailyEventQuota' | 'retentionDays'>>;

@Injectable()
export class SourcesRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  create(name: string, manager: EntityManager = this.db.manager): Promise<SourceEntity> {
    const repo = manager.getRepository(SourceEntity);
    return repo.save(repo.create({ name }));
  }

  list(): Promise<SourceEntity[]> {
    return this.db.getRepository(SourceEntity).find({ order: { createdAt: 'ASC' } });
  }

  findById(id: string, manager: EntityManager = this.db.manager): Promise<SourceEntity | null> {
    return manager.getRepository(SourceEntity).findOneBy({ id });
  }

  async update(id: string, patch: SourcePatch, manager: EntityManager): Promise<SourceEntity | null> {
    if (Object.keys(patch).length) await manager.getRepository(SourceEntity).update({ id }, patch);
    return this.findById(id, manager);
  }

  /** Deletes the source and (by cascade) its keys; its stored events stay. */
  async delete(id: string, manager: EntityManager): Promise<boolean> {
    const res = await manager.getRepository(SourceEntity).delete({ id });
    return (res.affected ?? 0) > 0;
  }

  async missingIds(ids: string[], manager: EntityManager = this.db.manager): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows: { id: string }[] = await manager.query('SELECT id FROM sources WHERE id = ANY($1::uuid[])', [ids]);
    const found = new Set(rows.map((r) => r.id));
    return ids.filter((id) => !found.has(id));
  }
}
