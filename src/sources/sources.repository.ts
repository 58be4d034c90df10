import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { SourceEntity } from './source.entity';

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

  findById(id: string): Promise<SourceEntity | null> {
    return this.db.getRepository(SourceEntity).findOneBy({ id });
  }
}
