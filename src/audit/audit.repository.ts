import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ActorType, AuditLogEntity } from './audit-log.entity';

export interface AuditEntry {
  actorType: ActorType;
  actorKeyId: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  ip: string | null;
  requestId: string | null;
  change: Record<string, unknown>;
}

export interface AuditFilter {
  from?: Date;
  to?: Date;
  action?: string;
  actor?: string;
  target?: string;
  /** return rows with id below this (the cursor) */
  beforeId?: string;
  limit: number;
}

/** Append and read only: there is deliberately no update or delete here (a trigger forbids them). */
@Injectable()
export class AuditRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async append(entry: AuditEntry, manager: EntityManager = this.db.manager): Promise<void> {
    await manager.query(
      `INSERT INTO audit_log (actor_type, actor_key_id, action, target_type, target_id, ip, request_id, change)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [entry.actorType, entry.actorKeyId, entry.action, entry.targetType, entry.targetId, entry.ip, entry.requestId, JSON.stringify(entry.change)],
    );
  }

  find(f: AuditFilter): Promise<AuditLogEntity[]> {
    const qb = this.db.getRepository(AuditLogEntity).createQueryBuilder('a').orderBy('a.id', 'DESC').limit(f.limit);
    if (f.from) qb.andWhere('a.at >= :from', { from: f.from });
    if (f.to) qb.andWhere('a.at < :to', { to: f.to });
    if (f.action) qb.andWhere('a.action = :action', { action: f.action });
    if (f.actor) qb.andWhere('(a.actor_key_id = :actor OR a.actor_type = :actor)', { actor: f.actor });
    if (f.target) qb.andWhere('a.target_id = :target', { target: f.target });
    if (f.beforeId) qb.andWhere('a.id < :before', { before: f.beforeId });
    return qb.getMany();
  }
}
