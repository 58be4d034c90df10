import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { EVENT_TYPES } from '../ingest/event-validator';

export class EventsQueryDto {
  @ApiPropertyOptional({ example: '2026-11-25T00:00:00Z', description: 'timestamp >= from' }) @IsOptional() @Type(() => Date) @IsDate() from?: Date;
  @ApiPropertyOptional({ example: '2026-11-26T00:00:00Z', description: 'timestamp < to' }) @IsOptional() @Type(() => Date) @IsDate() to?: Date;
  @ApiPropertyOptional({ enum: EVENT_TYPES }) @IsOptional() @IsIn(EVENT_TYPES) type?: string;
  @ApiPropertyOptional({ default: 100, maximum: 1000 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit?: number;
  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional() @Matches(/^[A-Za-z0-9_-]{1,600}$/, { message: 'cursor must be the nextCursor of a previous page' }) cursor?: string;
}

export class EventsPageDto {
  @ApiProperty({ description: 'Stored events, newest first', type: 'array', items: { type: 'object' } }) items: Record<string, unknown>[];
  @ApiPropertyOptional({ nullable: true, type: String }) nextCursor: string | null;
}
