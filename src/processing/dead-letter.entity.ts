import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('dead_letters')
export class DeadLetterEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id: string;
  @Column('uuid', { name: 'source_id', nullable: true }) sourceId: string | null;
  @Column('text', { name: 'message_id', nullable: true }) messageId: string | null;
  @Column('text', { name: 'request_id', nullable: true }) requestId: string | null;
  @Column('text', { name: 'job_id', nullable: true }) jobId: string | null;
  @Column('int') attempts: number;
  @Column('text') reason: string;
  @Column('jsonb') payload: unknown;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
