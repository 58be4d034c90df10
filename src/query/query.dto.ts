import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsDate, IsIn, IsInt, IsObject, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { ColumnType, EVENT_COLUMNS } from '../domain/events/event-columns';
import { EVENT_TYPES } from '../domain/events/event-types';
import { INTERVALS } from './time-buckets';

/** The filters every read route shares (and `properties.<name>=` / `context.<path>=`, see FieldFiltersInterceptor). */
export class EventFiltersDto {
  @ApiPropertyOptional({ enum: EVENT_TYPES }) @IsOptional() @IsIn(EVENT_TYPES) type?: string;
  @ApiPropertyOptional({ example: 'Order Completed', description: 'Event name (track)' }) @IsOptional() @IsString() @MaxLength(1000) event?: string;
  @ApiPropertyOptional({ example: 'user-42' }) @IsOptional() @IsString() @MaxLength(1000) userId?: string;
  @ApiPropertyOptional({ example: 'a1b2c3' }) @IsOptional() @IsString() @MaxLength(1000) anonymousId?: string;
}

export class EventsQueryDto extends EventFiltersDto {
  @ApiPropertyOptional({ example: '2026-11-25T00:00:00Z', description: 'timestamp >= from' }) @IsOptional() @Type(() => Date) @IsDate() from?: Date;
  @ApiPropertyOptional({ example: '2026-11-26T00:00:00Z', description: 'timestamp < to' }) @IsOptional() @Type(() => Date) @IsDate() to?: Date;
  @ApiPropertyOptional({ default: 100, maximum: 1000 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit?: number;
  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional() @Matches(/^[A-Za-z0-9_-]{1,600}$/, { message: 'cursor must be the nextCursor of a previous page' }) cursor?: string;
}

class RangeDto extends EventFiltersDto {
  @ApiProperty({ example: '2026-11-01T00:00:00Z', description: 'Start of the range (inclusive)' }) @Type(() => Date) @IsDate() from!: Date;
  @ApiProperty({ example: '2026-12-01T00:00:00Z', description: 'End of the range (exclusive)' }) @Type(() => Date) @IsDate() to!: Date;
}

export class CountsQueryDto extends RangeDto {
  @ApiPropertyOptional({ enum: ['minute', 'hour', 'day'], default: 'hour' }) @IsOptional() @IsIn(['minute', 'hour', 'day']) interval?: (typeof INTERVALS)[number];
  @ApiPropertyOptional({ enum: ['event', 'type'], description: 'Split each bucket by event name or call type' }) @IsOptional() @IsIn(['event', 'type']) groupBy?: 'event' | 'type';
  @ApiPropertyOptional({ example: 'Europe/Berlin', default: 'UTC', description: 'IANA time zone of the buckets (day buckets are local days, DST included)' })
  @IsOptional() @IsString() @MaxLength(64) tz?: string;
}

export class TopEventsQueryDto extends RangeDto {
  @ApiPropertyOptional({ default: 10, maximum: 100 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(100) limit?: number;
}

export class UniquesQueryDto {
  @ApiProperty({ example: '2026-11-01T00:00:00Z', description: 'Start of the range (inclusive)' }) @Type(() => Date) @IsDate() from!: Date;
  @ApiProperty({ example: '2026-12-01T00:00:00Z', description: 'End of the range (exclusive)' }) @Type(() => Date) @IsDate() to!: Date;
  @ApiPropertyOptional({ enum: ['hour', 'day', 'week', 'month'], default: 'day' }) @IsOptional() @IsIn(['hour', 'day', 'week', 'month']) interval?: 'hour' | 'day' | 'week' | 'month';
  @ApiPropertyOptional({ example: 'UTC', default: 'UTC', description: 'IANA time zone of the buckets' }) @IsOptional() @IsString() @MaxLength(64) tz?: string;
}

export class FunnelStepDto {
  @ApiProperty({ example: 'Product Viewed' }) @IsString() @MaxLength(1000) event!: string;
  @ApiPropertyOptional({ example: { plan: 'pro' }, description: 'Top-level properties the event must have, compared as JSON (42 is not "42")' })
  @IsOptional() @IsObject() properties?: Record<string, string | number | boolean>;
}

export class FunnelDto {
  @ApiProperty({ type: [FunnelStepDto], minItems: 2, maxItems: 5, example: [{ event: 'Product Viewed' }, { event: 'Product Added' }, { event: 'Order Completed' }] })
  @ValidateNested({ each: true }) @Type(() => FunnelStepDto) @ArrayMinSize(2) @ArrayMaxSize(5) steps!: FunnelStepDto[];
  @ApiProperty({ example: '1d', description: 'How long after a user\'s first step a later step still counts: <n>m, <n>h or <n>d, at most 90d' })
  @IsString() @Matches(/^[1-9][0-9]{0,4}[mhd]$/, { message: 'window must look like 30m, 12h or 7d' }) window!: string;
  @ApiProperty({ example: '2026-11-01T00:00:00Z', description: 'First steps from (inclusive)' }) @Type(() => Date) @IsDate() from!: Date;
  @ApiProperty({ example: '2026-11-08T00:00:00Z', description: 'First steps until (exclusive); later steps may follow within the window' }) @Type(() => Date) @IsDate() to!: Date;
}

export class RetentionDto {
  @ApiProperty({ example: 'Signed Up', description: 'A user joins the cohort of the bucket of their first such event in the range' }) @IsString() @MaxLength(1000) cohortEvent!: string;
  @ApiProperty({ example: 'Order Completed', description: 'The event that counts as returning' }) @IsString() @MaxLength(1000) returnEvent!: string;
  @ApiProperty({ enum: ['day', 'week'], example: 'week' }) @IsIn(['day', 'week']) interval!: 'day' | 'week';
  @ApiProperty({ minimum: 1, maximum: 12, example: 8 }) @Type(() => Number) @IsInt() @Min(1) @Max(12) periods!: number;
  @ApiProperty({ example: '2026-10-01T00:00:00Z' }) @Type(() => Date) @IsDate() from!: Date;
  @ApiProperty({ example: '2026-11-26T00:00:00Z' }) @Type(() => Date) @IsDate() to!: Date;
  @ApiPropertyOptional({ example: 'Europe/Berlin', default: 'UTC' }) @IsOptional() @IsString() @MaxLength(64) tz?: string;
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

class DeadLetterInfoDto {
  @ApiProperty({ example: '1042', description: 'dead_letters.id' }) id: string;
  @ApiProperty({ example: 'rejected_by_postgres' }) reasonCode: string;
  @ApiProperty({ example: 'PostgreSQL refused the event: invalid input syntax for type json' }) reason: string;
  @ApiProperty({ type: String, format: 'date-time' }) deadLetteredAt: Date;
}

export class ReceiptDto {
  @ApiProperty({ example: 'ajs-next-1764700000000-5a1b' }) messageId: string;
  @ApiProperty({ enum: ['stored', 'dead_lettered'], description: 'Where the event is' }) status: 'stored' | 'dead_lettered';
  @ApiPropertyOptional({ ...STORED_EVENT_SCHEMA, description: 'The stored event (status stored)' }) event?: Record<string, unknown>;
  @ApiPropertyOptional({ type: DeadLetterInfoDto, description: 'Why it was not stored (status dead_lettered); also shown for a stored event that was replayed from dead_letters' })
  deadLetter?: DeadLetterInfoDto;
}

class CountBucketDto {
  @ApiProperty({ type: String, format: 'date-time', example: '2026-11-01T00:00:00.000Z', description: 'Start of the bucket (in UTC; the bucket is a minute/hour/day of the requested zone)' }) start: string;
  @ApiProperty({ example: 1234 }) count: number;
  @ApiPropertyOptional({ example: { 'Order Completed': 1000, 'Signed Up': 234 }, description: 'With groupBy: counts per event name or type (only non-zero ones); "" is a call without a name' })
  groups?: Record<string, number>;
}

export class CountsDto {
  @ApiProperty({ example: 'hour' }) interval: string;
  @ApiProperty({ example: 'UTC' }) tz: string;
  @ApiProperty({ enum: ['rollup', 'raw'], description: 'rollup: whole hours were read from the hourly rollup (edges from raw events); raw: raw events only' }) read: 'rollup' | 'raw';
  @ApiProperty({ type: [CountBucketDto] }) buckets: CountBucketDto[];
}

class TopEventDto {
  @ApiProperty({ example: 'Order Completed' }) event: string;
  @ApiProperty({ example: 1000 }) count: number;
  @ApiProperty({ example: 420, description: 'Distinct users (userId, else anonymousId)' }) users: number;
}

export class TopEventsDto {
  @ApiProperty({ type: [TopEventDto] }) events: TopEventDto[];
}

class UniquesBucketDto {
  @ApiProperty({ type: String, format: 'date-time' }) start: string;
  @ApiProperty({ example: 321, description: 'Distinct users (userId, else anonymousId) active in the bucket' }) users: number;
}

export class UniquesDto {
  @ApiProperty({ example: 'day' }) interval: string;
  @ApiProperty({ example: 'UTC' }) tz: string;
  @ApiProperty({ example: false, description: 'Always false: counts are exact' }) approximate: boolean;
  @ApiProperty({ enum: ['rollup', 'raw'] }) read: 'rollup' | 'raw';
  @ApiProperty({ type: [UniquesBucketDto] }) buckets: UniquesBucketDto[];
}

class FunnelStepResultDto {
  @ApiProperty({ example: 'Product Added' }) event: string;
  @ApiProperty({ example: 420 }) users: number;
  @ApiProperty({ example: 0.42, description: 'Share of the users of step 1' }) conversion: number;
  @ApiProperty({ example: 0.6, description: 'Share of the users of the previous step' }) fromPrevious: number;
  @ApiPropertyOptional({ example: 312.5, nullable: true, description: 'Median seconds from the previous step (null for step 1 and for a step nobody reached)' })
  medianSecondsFromPrevious: number | null;
}

export class FunnelResultDto {
  @ApiProperty({ example: '1d' }) window: string;
  @ApiProperty({ type: [FunnelStepResultDto] }) steps: FunnelStepResultDto[];
}

class CohortDto {
  @ApiProperty({ type: String, format: 'date-time' }) start: string;
  @ApiProperty({ example: 120 }) users: number;
  @ApiProperty({ example: [60, 40, 33], description: 'Users of the cohort who returned in each of the following periods' }) returned: number[];
  @ApiProperty({ example: [0.5, 0.333, 0.275], description: 'returned / users (0 for an empty cohort)' }) rates: number[];
}

export class RetentionResultDto {
  @ApiProperty({ example: 'week' }) interval: string;
  @ApiProperty({ example: 'UTC' }) tz: string;
  @ApiProperty({ type: [CohortDto] }) cohorts: CohortDto[];
}
