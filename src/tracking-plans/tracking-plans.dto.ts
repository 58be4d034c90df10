import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsArray, IsIn, IsInt, IsISO8601, IsObject, IsOptional, IsString, IsUUID, Length, Matches, Max, Min, ValidateIf } from 'class-validator';

const ACTIONS = ['allow', 'flag', 'quarantine', 'drop'];
const RULES_DOC = 'A version\'s rules: {allowUnplanned: boolean, common?: JSON Schema applied to the whole event, rules: [{type: track|identify|page|screen|group|alias, event?: (track) the event name, description?, properties?, traits?, context?: JSON Schema (draft-07, or 2020-12 with $schema)}]}';

export class PlanIdParams {
  @ApiProperty({ format: 'uuid' }) @IsUUID() id!: string;
}

export class PlanVersionParams extends PlanIdParams {
  @ApiProperty({ type: 'integer', minimum: 1 }) @Matches(/^[1-9]\d{0,8}$/, { message: 'version must be a whole number from 1' }) version!: string;
}

export class CreatePlanDto {
  @ApiProperty({ example: 'web checkout' }) @IsString() @Length(1, 200) @Matches(/\S/, { message: 'name must not be blank' }) name!: string;
  @ApiPropertyOptional({ example: 'What the web app sends' }) @IsOptional() @IsString() @Length(0, 2000) description?: string;
  @ApiProperty({ description: RULES_DOC, type: 'object', additionalProperties: true, example: { allowUnplanned: false, rules: [{ type: 'track', event: 'Order Completed', properties: { type: 'object', required: ['revenue'], properties: { revenue: { type: 'number' } } } }] } })
  @IsObject() rules!: Record<string, unknown>;
}

export class UpdatePlanDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 200) @Matches(/\S/, { message: 'name must not be blank' }) name?: string;
  @ApiPropertyOptional({ nullable: true, type: String }) @ValidateIf((_, v) => v !== null) @IsOptional() @IsString() @Length(0, 2000) description?: string | null;
}

export class AddVersionDto {
  @ApiProperty({ description: RULES_DOC, type: 'object', additionalProperties: true }) @IsObject() rules!: Record<string, unknown>;
}

export class ImportPlanDto {
  @ApiProperty({ enum: ['segment', 'rudderstack'], description: 'segment: a Protocols plan (Public API rules list, or the Config API document); rudderstack: a Data Catalog plan with its events (format=schema), or its legacy Segment-shaped plan' })
  @IsIn(['segment', 'rudderstack']) format!: 'segment' | 'rudderstack';
  @ApiPropertyOptional({ description: 'Name of the new plan (default: the one in the document)' }) @IsOptional() @IsString() @Length(1, 200) name?: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The exported document, as the other tool gives it' }) @IsObject() plan!: Record<string, unknown>;
}

export class InferPlanDto {
  @ApiProperty({ format: 'uuid' }) @IsUUID() sourceId!: string;
  @ApiProperty({ example: '2026-11-01T00:00:00Z' }) @IsISO8601({ strict: true }) from!: string;
  @ApiProperty({ example: '2026-12-01T00:00:00Z' }) @IsISO8601({ strict: true }) to!: string;
  @ApiPropertyOptional({ type: 'integer', minimum: 100, maximum: 1_000_000, default: 100000, description: 'Newest events read per event name at most' })
  @IsOptional() @IsInt() @Min(100) @Max(1_000_000) sampleSize?: number;
}

export class AttachPlanDto {
  @ApiProperty({ format: 'uuid' }) @IsUUID() planId!: string;
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 2_147_483_647, nullable: true, description: 'Pin this version; omit or null to follow the latest' })
  @ValidateIf((_, v) => v !== null) @IsOptional() @IsInt() @Min(1) @Max(2_147_483_647) version?: number | null;
  @ApiPropertyOptional({ enum: ACTIONS, default: 'allow', description: 'What to do with a track event the plan does not list (when allowUnplanned is false)' })
  @IsOptional() @IsIn(ACTIONS) onUnplanned?: 'allow' | 'flag' | 'quarantine' | 'drop';
  @ApiPropertyOptional({ enum: ACTIONS, default: 'flag', description: 'What to do with an event that fails a schema' })
  @IsOptional() @IsIn(ACTIONS) onViolation?: 'allow' | 'flag' | 'quarantine' | 'drop';
}

export class SourceIdParams {
  @ApiProperty({ format: 'uuid' }) @IsUUID() sourceId!: string;
}

export class ValidateEventsDto {
  @ApiProperty({ type: 'array', items: { type: 'object' }, description: 'Events as an SDK sends them (each with its type), at most 1000' })
  @IsArray() events!: unknown[];
  @ApiPropertyOptional({ description: 'Validate against this plan version rather than the one the source follows' })
  @IsOptional() @IsUUID() planId?: string;
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 2_147_483_647 }) @IsOptional() @IsInt() @Min(1) @Max(2_147_483_647) version?: number;
}

export class ViolationsQueryDto {
  @ApiProperty({ example: '2026-11-01T00:00:00Z' }) @IsISO8601({ strict: true }) from!: string;
  @ApiProperty({ example: '2026-12-01T00:00:00Z' }) @IsISO8601({ strict: true }) to!: string;
  @ApiPropertyOptional({ description: 'Only this track event name' }) @IsOptional() @IsString() @Length(1, 1024) event?: string;
  @ApiPropertyOptional({ enum: ['unplanned_event', 'schema_violation'] }) @IsOptional() @IsIn(['unplanned_event', 'schema_violation']) type?: string;
}

export class ViolationDto {
  @ApiProperty({ enum: ['unplanned_event', 'schema_violation'] }) type!: string;
  @ApiProperty({ example: 'required' }) keyword!: string;
  @ApiProperty({ example: '/properties' }) instancePath!: string;
  @ApiProperty({ example: '/properties must have required property \'revenue\' (revenue)' }) message!: string;
}

export class PlanVersionDto {
  @ApiProperty() version!: number;
  @ApiProperty({ type: 'object', additionalProperties: true }) rules!: Record<string, unknown>;
  @ApiProperty() createdAt!: Date;
  @ApiPropertyOptional({ nullable: true, type: String }) createdBy!: string | null;
}

export class PlanDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) description!: string | null;
  @ApiProperty() latestVersion!: number;
  @ApiProperty({ type: [String], description: 'Sources that follow this plan' }) sources!: string[];
  @ApiProperty() createdAt!: Date;
  @ApiProperty() updatedAt!: Date;
  @ApiPropertyOptional({ type: [PlanVersionDto], description: 'GET one plan: its versions, newest first' }) versions?: PlanVersionDto[];
}

export class AttachmentDto {
  @ApiProperty({ format: 'uuid' }) sourceId!: string;
  @ApiProperty({ format: 'uuid' }) planId!: string;
  @ApiPropertyOptional({ nullable: true, type: Number, description: 'null: follows the latest' }) version!: number | null;
  @ApiProperty({ enum: ACTIONS }) onUnplanned!: string;
  @ApiProperty({ enum: ACTIONS }) onViolation!: string;
  @ApiProperty() updatedAt!: Date;
}

export class ValidatedEventDto {
  @ApiProperty() index!: number;
  @ApiProperty({ enum: ['valid', 'allow', 'flag', 'quarantine', 'drop', 'rejected'], description: 'What ingestion would do: valid (no violation), the action of the source\'s modes, or rejected (not a valid event at all, see reason)' })
  outcome!: string;
  @ApiProperty({ type: [ViolationDto] }) violations!: ViolationDto[];
  @ApiPropertyOptional({ description: 'rejected: why' }) reason?: string;
  @ApiPropertyOptional() message?: string;
}

export class ValidateResultDto {
  @ApiProperty({ example: 'f0e3…@3', description: 'The plan version used' }) plan!: string;
  @ApiProperty() valid!: number;
  @ApiProperty() invalid!: number;
  @ApiProperty({ type: [ValidatedEventDto] }) events!: ValidatedEventDto[];
}

export class ViolationGroupDto {
  @ApiProperty() eventType!: string;
  @ApiProperty({ description: "track: the event name; '' otherwise" }) event!: string;
  @ApiProperty({ enum: ['unplanned_event', 'schema_violation'] }) type!: string;
  @ApiProperty() keyword!: string;
  @ApiProperty() instancePath!: string;
  @ApiProperty({ enum: ACTIONS }) action!: string;
  @ApiProperty() count!: number;
  @ApiProperty() message!: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The first event of the group' }) sample!: unknown;
  @ApiProperty() firstSeen!: Date;
  @ApiProperty() lastSeen!: Date;
}

export class ViolationsReportDto {
  @ApiProperty({ type: [ViolationGroupDto] }) groups!: ViolationGroupDto[];
}

export class InferredPlanDto {
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Draft rules, ready for POST /v1/admin/tracking-plans' }) rules!: Record<string, unknown>;
  @ApiProperty({ description: 'Events read' }) events!: number;
}

