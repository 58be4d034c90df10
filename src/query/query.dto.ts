import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { ColumnType, EVENT_COLUMNS } from '../domain/events/event-columns';
import { EVENT_TYPES } from '../domain/events/event-types';

export class EventsQueryDto {
  @ApiPropertyOptional({ example: '2026-11-25T00:00:00Z', description: 'timestamp >= from' }) @IsOptional() @Type(() => Date) @IsDate() from?: Date;
  @ApiPropertyOptional({ example: '2026-11-26T00:00:00Z', description: 'timestamp < to' }) @IsOptional() @Type(() => Date) @IsDate() to?: Date;
  @ApiPropertyOptional({ enum: EVENT_TYPES }) @IsOptional() @IsIn(EVENT_TYPES) type?: string;
  @ApiPropertyOptional({ default: 100, maximum: 1000 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit?: number;
  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional() @Matches(/^[A-Za-z0-9_-]{1,600}$/, { message: 'cursor must be the nextCursor of a previous page' }) cursor?: string;
}

// @nestjs/swagger exports its schema type only through ApiPropertyOptions.
type SchemaObject = Record<string, unknown>;

const SCHEMA_OF: Record<ColumnType, SchemaObject> = {
  uuid: { type: 'string', format: 'uuid' },
  text: { type: 'string' },
  timestamptz: { type: 'string', format: 'date-time' },
  jsonb: { type: 'object', additionalProperties: true },
};

/** The OpenAPI schema of a stored event, derived from the one column list. */
export const STORED_EVENT_SCHEMA: SchemaObject = {
  type: 'object',
  properties: Object.fromEntries(
    EVENT_COLUMNS.filter((c) => c.view).map((c) => [c.field, { ...SCHEMA_OF[c.type], nullable: c.nullable, description: c.description }]),
  ),
  required: EVENT_COLUMNS.filter((c) => c.view && !c.nullable).map((c) => c.field),
};

export class EventsPageDto {
  @ApiProperty({ description: 'Stored events, newest first', type: 'array', items: STORED_EVENT_SCHEMA }) items: Record<string, unknown>[];
  @ApiPropertyOptional({ nullable: true, type: String }) nextCursor: string | null;
}
