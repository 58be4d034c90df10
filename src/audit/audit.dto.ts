import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { IsBigintId } from '../common/pg-validators';

export class AuditQueryDto {
  @ApiPropertyOptional({ example: '2026-11-01T00:00:00Z', description: 'From (inclusive)' })
  @IsOptional() @Type(() => Date) @IsDate() from?: Date;
  @ApiPropertyOptional({ example: '2026-12-01T00:00:00Z', description: 'To (exclusive)' })
  @IsOptional() @Type(() => Date) @IsDate() to?: Date;
  @ApiPropertyOptional({ example: 'key.revoke' }) @IsOptional() @IsString() @MaxLength(100) action?: string;
  @ApiPropertyOptional({ description: 'Key id of the actor (the 8 characters after sk_admin_), or admin_token / cli' })
  @IsOptional() @IsString() @MaxLength(100) actor?: string;
  @ApiPropertyOptional({ description: 'Target id (a source or key id)' }) @IsOptional() @IsString() @MaxLength(100) target?: string;
  @ApiPropertyOptional({ default: 100, maximum: 1000 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit?: number;
  @ApiPropertyOptional({ description: 'nextCursor of the previous page' }) @IsOptional() @IsBigintId() cursor?: string;
}

export class AuditEntryDto {
  @ApiProperty() id: string;
  @ApiProperty() at: Date;
  @ApiProperty({ enum: ['admin_key', 'admin_token', 'cli'] }) actorType: string;
  @ApiPropertyOptional({ nullable: true, type: String }) actorKeyId: string | null;
  @ApiProperty({ example: 'source.create' }) action: string;
  @ApiProperty({ example: 'source' }) targetType: string;
  @ApiPropertyOptional({ nullable: true, type: String }) targetId: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) ip: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) requestId: string | null;
  @ApiProperty({ example: { name: { from: 'web', to: 'web-app' } } }) change: Record<string, unknown>;
}

export class AuditPageDto {
  @ApiProperty({ type: [AuditEntryDto] }) items: AuditEntryDto[];
  @ApiPropertyOptional({ nullable: true, type: String, description: 'Pass as cursor for the next page; null at the end' }) nextCursor: string | null;
}
