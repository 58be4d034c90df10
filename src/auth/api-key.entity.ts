import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { KeyKind } from '../domain/key-format';

@Entity('api_keys')
export class ApiKeyEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  /** The short, non-secret id visible inside the key (`sk_write_<keyId>_...`). */
  @Column('text', { name: 'key_id' }) keyId: string;
  @Column('text') kind: KeyKind;
  @Column('uuid', { name: 'source_id', nullable: true }) sourceId: string | null;
  /** Read keys: the sources they may read; null means all. */
  @Column('uuid', { name: 'source_ids', array: true, nullable: true }) sourceIds: string[] | null;
  @Column('uuid', { name: 'rotated_from', nullable: true }) rotatedFrom: string | null;
  @Column('text', { nullable: true }) name: string | null;
  @Column('bytea', { name: 'secret_hash', select: false }) secretHash: Buffer;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column('timestamptz', { name: 'expires_at', nullable: true }) expiresAt: Date | null;
  @Column('timestamptz', { name: 'revoked_at', nullable: true }) revokedAt: Date | null;
  @Column('timestamptz', { name: 'last_used_at', nullable: true }) lastUsedAt: Date | null;
}
