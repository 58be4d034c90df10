import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsOptional, IsString, IsUUID, MaxLength, MinLength } from 'class-validator';

export class CreateSuppressionDto {
  @ApiPropertyOptional({ example: 'user-42', description: 'Exactly one of userId and anonymousId' }) @IsOptional() @IsString() @MinLength(1) @MaxLength(1000) userId?: string;
  @ApiPropertyOptional({ example: 'a1b2c3' }) @IsOptional() @IsString() @MinLength(1) @MaxLength(1000) anonymousId?: string;
  @ApiPropertyOptional({ type: [String], format: 'uuid', description: 'Only these sources (default: all)' })
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(1000) @IsUUID('all', { each: true }) sourceIds?: string[];
}

export class ListSuppressionsDto {
  @ApiPropertyOptional({ default: false, description: 'Include lifted suppressions' })
  @IsOptional() @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value)) @IsBoolean() all?: boolean;
}

export class SuppressionIdParams {
  @ApiProperty({ format: 'uuid' }) @IsUUID() id!: string;
}

export class SuppressionDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiPropertyOptional({ nullable: true }) userId: string | null;
  @ApiPropertyOptional({ nullable: true }) anonymousId: string | null;
  @ApiPropertyOptional({ type: [String], nullable: true, description: 'null: every source' }) sourceIds: string[] | null;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt: Date;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) liftedAt: Date | null;
}

export class ExportQueryDto {
  @ApiPropertyOptional({ example: 'user-42', description: 'Exactly one of userId and anonymousId' }) @IsOptional() @IsString() @MinLength(1) @MaxLength(1000) userId?: string;
  @ApiPropertyOptional({ example: 'a1b2c3' }) @IsOptional() @IsString() @MinLength(1) @MaxLength(1000) anonymousId?: string;
  @ApiPropertyOptional({ type: [String], description: 'Only these sources (default: all); repeat the parameter', format: 'uuid' })
  @IsOptional() @Transform(({ value }) => (typeof value === 'string' ? [value] : value)) @IsArray() @ArrayMaxSize(1000) @IsUUID('all', { each: true }) sourceIds?: string[];
}

export class CreateDeletionDto {
  @ApiPropertyOptional({ example: 'user-42', description: 'Exactly one of userId and anonymousId. A userId also deletes the anonymousIds linked to it (sent with it on an event, or aliased to it).' })
  @IsOptional() @IsString() @MinLength(1) @MaxLength(1000) userId?: string;
  @ApiPropertyOptional({ example: 'a1b2c3' }) @IsOptional() @IsString() @MinLength(1) @MaxLength(1000) anonymousId?: string;
  @ApiPropertyOptional({ type: [String], format: 'uuid', description: 'Only these sources (default: all)' })
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(1000) @IsUUID('all', { each: true }) sourceIds?: string[];
  @ApiPropertyOptional({ default: false, description: 'Also suppress the person (their future events are dropped at ingestion), before the deletion starts: "suppress with delete"' })
  @IsOptional() @IsBoolean() suppress?: boolean;
}

export class DeletionIdParams {
  @ApiProperty({ format: 'uuid' }) @IsUUID() id!: string;
}

export class RemovedRowsDto {
  @ApiProperty() events: number;
  @ApiProperty({ description: 'Dedup claims of the removed events' }) event_dedup: number;
  @ApiProperty() dead_letters: number;
  @ApiProperty({ description: 'Hourly count rows removed because they fell to zero (others were lowered)' }) event_counts_hourly: number;
  @ApiProperty({ description: 'User-days removed from the daily active users' }) event_users_daily: number;
  @ApiProperty({ description: 'Daily distinct-user counts lowered' }) event_uniques_daily: number;
  @ApiProperty({ description: 'Tracking-plan violation groups whose sample event was the person (sample erased, count kept)' }) violation_samples: number;
}

export class DeletionProgressDto {
  @ApiPropertyOptional({ type: RemovedRowsDto }) removed?: RemovedRowsDto;
  @ApiPropertyOptional({ description: 'Partitions of events in this pass' }) partitionsTotal?: number;
  @ApiPropertyOptional() partitionsDone?: number;
  @ApiPropertyOptional({ description: 'Pass over the partitions (a second one catches rows that arrived during the first)' }) pass?: number;
  @ApiPropertyOptional({ description: 'anonymousIds found linked to the userId' }) linkedAnonymousIds?: number;
}

export class DeletionIdentityDto {
  @ApiProperty({ enum: ['userId', 'anonymousId'] }) kind: string;
  @ApiProperty({ description: 'sha256 of "<kind>:<identifier>": the identifier itself is not kept once the deletion is done' }) sha256: string;
}

export class DeletionDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ type: DeletionIdentityDto }) identity: DeletionIdentityDto;
  @ApiPropertyOptional({ type: [String], nullable: true, description: 'null: every source' }) sourceIds: string[] | null;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'The suppression created with the request (suppress: true)' }) suppressionId: string | null;
  @ApiProperty({ enum: ['pending', 'running', 'done'] }) status: string;
  @ApiProperty({ description: 'Attempts so far (an interrupted attempt is continued by the next)' }) attempts: number;
  @ApiProperty({ type: DeletionProgressDto }) progress: DeletionProgressDto;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: 'When done: rows removed per table, rows remaining on the re-check (0: verified), when it was checked; the identity only as a hash',
  })
  verification: Record<string, unknown> | null;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'Why the last attempt stopped (it is retried)' }) lastError: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt: Date;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) startedAt: Date | null;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) finishedAt: Date | null;
}
