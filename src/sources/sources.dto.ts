import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsArray, IsIn, IsInt, IsOptional, IsString, IsUUID, Length, Matches, Max, Min, ValidateIf } from 'class-validator';
import { PG_BIGINT_SAFE_MAX } from '../common/pg-validators';
import type { KeyKind } from '../domain/key-format';

export class CreateSourceDto {
  @ApiProperty({ example: 'web-app', description: 'Human name of the source (1-200 characters)' })
  @IsString()
  @Length(1, 200)
  @Matches(/\S/, { message: 'name must not be blank' })
  name: string;
}

export class UpdateSourceDto {
  @ApiPropertyOptional({ example: 'web-app' })
  @IsOptional() @IsString() @Length(1, 200) @Matches(/\S/, { message: 'name must not be blank' })
  name?: string;
  // `number | null` reflects as Object: without an explicit type the document says "object".
  @ApiPropertyOptional({ type: 'integer', nullable: true, minimum: 0, maximum: 1_000_000, example: 100, description: 'Requests per second; null: global default; 0: unlimited' })
  @ValidateIf((_, v) => v !== null) @IsOptional() @IsInt() @Min(0) @Max(1_000_000)
  rateLimitRps?: number | null;
  @ApiPropertyOptional({ type: 'integer', nullable: true, minimum: 0, maximum: 10_000_000, example: 5000, description: 'Events per second; null: global default; 0: unlimited' })
  @ValidateIf((_, v) => v !== null) @IsOptional() @IsInt() @Min(0) @Max(10_000_000)
  rateLimitEps?: number | null;
  @ApiPropertyOptional({ type: 'integer', nullable: true, minimum: 0, maximum: PG_BIGINT_SAFE_MAX, example: 10_000_000, description: 'Events per UTC day; null: global default; 0: unlimited' })
  @ValidateIf((_, v) => v !== null) @IsOptional() @IsInt() @Min(0) @Max(PG_BIGINT_SAFE_MAX)
  dailyEventQuota?: number | null;
  @ApiPropertyOptional({ type: 'integer', nullable: true, minimum: 1, maximum: 36500, example: 90, description: 'Days this source keeps its events (whole UTC days, like RETENTION_DAYS): older ones are refused at the door and deleted by the retention job. At most RETENTION_DAYS takes effect; null: the global retention.' })
  @ValidateIf((_, v) => v !== null) @IsOptional() @IsInt() @Min(1) @Max(36500)
  retentionDays?: number | null;
}

export class KeySummaryDto {
  @ApiProperty({ example: '0f6b1c9e-2f0c-4d1e-9a43-6f1f7c2b8e11' }) id: string;
  @ApiProperty({ example: 'a1B2c3D4', description: 'Non-secret id that appears inside the key' }) keyId: string;
  @ApiProperty({ enum: ['write', 'read', 'admin'] }) kind: string;
  @ApiProperty({ example: 'sk_write_a1B2c3D4_', description: 'Visible prefix; the secret part is never shown again' }) prefix: string;
  @ApiPropertyOptional({ nullable: true, type: String }) name: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'Write keys: their source' }) sourceId: string | null;
  @ApiPropertyOptional({ nullable: true, type: [String], description: 'Read keys: their sources; null: all' }) sourceIds: string[] | null;
  @ApiProperty() createdAt: Date;
  @ApiPropertyOptional({ nullable: true, type: Date }) expiresAt: Date | null;
  @ApiPropertyOptional({ nullable: true, type: Date }) revokedAt: Date | null;
  @ApiPropertyOptional({ nullable: true, type: Date }) lastUsedAt: Date | null;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'The key this one replaced by rotation' }) rotatedFrom: string | null;
}

export class CreatedKeyDto extends KeySummaryDto {
  @ApiProperty({ example: 'sk_read_a1B2c3D4_5xQk0bVt8Jd2Lr6Nw9Yz1Hc4Fg7Pm3Ta', description: 'Shown once: only a hash is stored.' }) key: string;
}

export class LimitsDto {
  @ApiPropertyOptional({ nullable: true, type: Number }) rateLimitRps: number | null;
  @ApiPropertyOptional({ nullable: true, type: Number }) rateLimitEps: number | null;
  @ApiPropertyOptional({ nullable: true, type: Number }) dailyEventQuota: number | null;
}

export class RetentionDto {
  @ApiPropertyOptional({ nullable: true, type: Number, description: 'The days set on this source; null: none (the global retention applies)' }) retentionDays: number | null;
  @ApiProperty({ type: Number, description: 'The days that take effect: the shorter of retentionDays and RETENTION_DAYS' }) effectiveDays: number;
}

export class SourceDto {
  @ApiProperty({ example: '5b0e6c7e-8a0b-4c51-9b8e-0c1f3a0d8e21' }) id: string;
  @ApiProperty({ example: 'web-app' }) name: string;
  @ApiProperty() createdAt: Date;
  @ApiProperty() updatedAt: Date;
  @ApiProperty({ type: LimitsDto, description: 'null values use the global defaults' }) limits: LimitsDto;
  @ApiProperty({ type: RetentionDto }) retention: RetentionDto;
  @ApiProperty({ type: [KeySummaryDto] }) writeKeys: KeySummaryDto[];
}

export class CreatedSourceDto {
  @ApiProperty({ example: '5b0e6c7e-8a0b-4c51-9b8e-0c1f3a0d8e21' }) id: string;
  @ApiProperty({ example: 'web-app' }) name: string;
  @ApiProperty({ example: 'sk_write_a1B2c3D4_5xQk0bVt8Jd2Lr6Nw9Yz1Hc4Fg7Pm3Ta', description: 'Shown once: only a hash is stored.' })
  writeKey: string;
  @ApiProperty() createdAt: Date;
}

export class CreateKeyDto {
  @ApiProperty({ enum: ['write', 'read', 'admin'], example: 'read' }) @IsIn(['write', 'read', 'admin']) kind: KeyKind;
  @ApiPropertyOptional({ description: 'Write keys: the source they send to (required)' })
  // Checked whenever given, not only for write keys: a falsy sourceId (0, "", false) on another
  // kind used to pass the service's "only write keys" check and reach the uuid column.
  @ValidateIf((o: CreateKeyDto) => o.kind === 'write' || (o.sourceId !== undefined && o.sourceId !== null)) @IsUUID('all', { message: 'sourceId must be the UUID of a source (required for write keys)' })
  sourceId?: string;
  @ApiPropertyOptional({ type: [String], description: 'Read keys: the sources they may read; omit for all' })
  @IsOptional() @IsArray() @IsUUID('all', { each: true }) sourceIds?: string[];
  @ApiPropertyOptional({ example: 'grafana' }) @IsOptional() @IsString() @Length(1, 200) name?: string;
}

export class RotateKeyDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: 30 * 24 * 3600, default: 3600, description: 'How long the old key keeps working, in seconds (0-2592000)' })
  @IsOptional() @IsInt() @Min(0) @Max(30 * 24 * 3600) overlapSeconds?: number;
}

export class RotatedKeyDto extends CreatedKeyDto {
  @ApiProperty({ description: 'When the old key stops working' }) previousKeyExpiresAt: Date;
}

export class ListKeysQueryDto {
  @ApiPropertyOptional({ enum: ['write', 'read', 'admin'] }) @IsOptional() @IsIn(['write', 'read', 'admin']) kind?: KeyKind;
  @ApiPropertyOptional() @IsOptional() @IsUUID() sourceId?: string;
  @ApiPropertyOptional({ description: 'true to include revoked keys' }) @IsOptional() @IsIn(['true', 'false']) includeRevoked?: string;
}
