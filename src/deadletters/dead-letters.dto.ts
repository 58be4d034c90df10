import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsDate, IsIn, IsInt, IsObject, IsOptional, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';
import { IsBigintId } from '../common/pg-validators';

const REASONS = ['rejected_by_postgres', 'retries_exhausted', 'worker_crash', 'enrichment_failed', 'schema_violation', 'unknown'];

export class DeadLetterFilterDto {
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() sourceId?: string;
  @ApiPropertyOptional({ enum: REASONS, description: 'reason code' }) @IsOptional() @IsIn(REASONS) reason?: string;
  @ApiPropertyOptional({ example: '2026-11-01T00:00:00Z', description: 'dead-lettered at or after' }) @IsOptional() @Type(() => Date) @IsDate() from?: Date;
  @ApiPropertyOptional({ example: '2026-12-01T00:00:00Z', description: 'dead-lettered before' }) @IsOptional() @Type(() => Date) @IsDate() to?: Date;
  @ApiPropertyOptional({ example: 'Order Completed', description: 'Text the original payload contains (matched literally)' }) @IsOptional() @IsString() @MaxLength(1000) q?: string;
}

export class DeadLetterQueryDto extends DeadLetterFilterDto {
  @ApiPropertyOptional({ enum: ['pending', 'replayed', 'discarded'] }) @IsOptional() @IsIn(['pending', 'replayed', 'discarded']) status?: 'pending' | 'replayed' | 'discarded';
  @ApiPropertyOptional({ default: 100, maximum: 1000 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit?: number;
  @ApiPropertyOptional({ description: 'nextCursor of the previous page' }) @IsOptional() @IsBigintId() cursor?: string;
}

export class DeadLetterIdParams {
  @ApiProperty({ example: '1042' }) @IsBigintId({ message: 'id must be a dead letter id (a whole number)' }) id!: string;
}

export class FixDeadLetterDto {
  @ApiProperty({
    example: { type: 'track', event: 'Order Completed', userId: 'user-42', properties: { revenue: 42.5 } },
    description: 'The corrected event, validated exactly as ingestion would (its messageId stays the dead letter\'s unless this one sets one)',
  })
  @IsObject() event!: Record<string, unknown>;
}

export class ReplayIdsDto {
  @ApiProperty({ example: ['1042', '1043'], description: 'Up to 100 dead letter ids; for more, POST /v1/admin/dead-letter-replays with a filter' })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(100) @IsBigintId({ each: true }) ids!: string[];
}

export class BulkDiscardDto extends DeadLetterFilterDto {
  @ApiPropertyOptional({ example: ['1042', '1043'], description: 'Only these dead letters (up to 1000); with filter fields too, those among them that match' })
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(1000) @IsBigintId({ each: true }) ids?: string[];
}

export class BulkDiscardResultDto {
  @ApiProperty({ example: 42, description: 'Pending dead letters discarded (already replayed or discarded ones are left as they are)' }) discarded: number;
}

export class DeadLetterDto {
  @ApiProperty({ example: '1042' }) id: string;
  @ApiPropertyOptional({ nullable: true, format: 'uuid' }) sourceId: string | null;
  @ApiPropertyOptional({ nullable: true }) messageId: string | null;
  @ApiPropertyOptional({ nullable: true }) requestId: string | null;
  @ApiPropertyOptional({ nullable: true }) jobId: string | null;
  @ApiProperty() attempts: number;
  @ApiProperty({ enum: REASONS }) reasonCode: string;
  @ApiProperty() reason: string;
  @ApiProperty({ enum: ['pending', 'replayed', 'discarded'] }) status: string;
  @ApiProperty({ type: String, format: 'date-time' }) deadLetteredAt: Date;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) updatedAt: Date | null;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) fixedAt: Date | null;
  @ApiPropertyOptional({ description: 'The original payload, byte for byte (the queued event as JSON text: source, receive time, request id and the event); in a list only its first 200 characters' })
  payload: string;
}

export class DeadLetterPageDto {
  @ApiProperty({ type: [DeadLetterDto] }) items: DeadLetterDto[];
  @ApiPropertyOptional({ nullable: true, type: String }) nextCursor: string | null;
}

class RejectedReplayDto {
  @ApiProperty() id: string;
  @ApiProperty({ example: 'missing_identity' }) reason: string;
  @ApiProperty() message: string;
}

export class ReplayOutcomeDto {
  @ApiProperty({ type: [String], description: 'Sent back through ingestion; stored once by the worker' }) replayed: string[];
  @ApiProperty({ type: [RejectedReplayDto], description: 'Refused by ingestion\'s checks again: fix them first' }) rejected: RejectedReplayDto[];
  @ApiProperty({ type: [String], description: 'Not pending (already replayed or discarded)' }) skipped: string[];
}

export class ReplayDto {
  @ApiProperty({ example: '7' }) id: string;
  @ApiProperty({ enum: ['running', 'done', 'failed'] }) status: string;
  @ApiProperty({ description: 'The filter it replays (always status pending)' }) filter: Record<string, unknown>;
  @ApiProperty({ description: 'Pending dead letters matching when it started' }) matched: number;
  @ApiProperty() replayed: number;
  @ApiProperty() rejected: number;
  @ApiPropertyOptional({ nullable: true, description: 'Why it stopped (failed); run it again to replay the rest' }) error: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt: Date;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) finishedAt: Date | null;
}
