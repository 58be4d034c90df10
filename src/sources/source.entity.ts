import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@Entity('sources')
export class SourceEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('text') name: string;
  @Column('int', { name: 'rate_limit_rps', nullable: true }) rateLimitRps: number | null;
  @Column('int', { name: 'rate_limit_eps', nullable: true }) rateLimitEps: number | null;
  @Column('bigint', { name: 'daily_event_quota', nullable: true, transformer: { to: (v: number | null) => v, from: (v: string | null) => (v === null ? null : Number(v)) } })
  dailyEventQuota: number | null;
  @Column('int', { name: 'retention_days', nullable: true }) retentionDays: number | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
