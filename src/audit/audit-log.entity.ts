import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type ActorType = 'admin_key' | 'admin_token' | 'cli';

@Entity('audit_log')
export class AuditLogEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id: string;
  @Column('timestamptz', { default: () => 'now()' }) at: Date;
  @Column('text', { name: 'actor_type' }) actorType: ActorType;
  @Column('text', { name: 'actor_key_id', nullable: true }) actorKeyId: string | null;
  @Column('text') action: string;
  @Column('text', { name: 'target_type' }) targetType: string;
  @Column('text', { name: 'target_id', nullable: true }) targetId: string | null;
  @Column('text', { nullable: true }) ip: string | null;
  @Column('text', { name: 'request_id', nullable: true }) requestId: string | null;
  @Column('jsonb', { default: {} }) change: Record<string, unknown>;
}
