import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { EVENT_TYPES } from '../domain/events/event-types';

// These classes describe the routes for OpenAPI only; validation on the hot path is the
// compiled JSON schema in event-validator.ts.

class CommonEventDto {
  @ApiPropertyOptional({ example: 'user-42', description: 'userId or anonymousId is required' }) userId?: string;
  @ApiPropertyOptional({ example: '0b1d2c3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e' }) anonymousId?: string;
  @ApiPropertyOptional({ example: 'ajs-next-1700000000000-abc', description: 'Deduplication id within the source; generated when absent' }) messageId?: string;
  @ApiPropertyOptional({ example: '2026-11-25T10:00:00.000Z', description: 'When the event happened, by the client clock' }) timestamp?: string;
  @ApiPropertyOptional({ example: '2026-11-25T10:00:01.000Z', description: 'When the client sent it; used for clock-skew correction' }) sentAt?: string;
  @ApiPropertyOptional({ example: { ip: '203.0.113.7', library: { name: 'analytics-node', version: '3.1.0' } } }) context?: Record<string, unknown>;
  @ApiPropertyOptional({ example: { All: true } }) integrations?: Record<string, unknown>;
  @ApiPropertyOptional({ description: 'Write key in the body (alternative to Basic auth or X-Write-Key)' }) writeKey?: string;
}

export class TrackDto extends CommonEventDto {
  @ApiProperty({ example: 'Order Completed' }) event: string;
  @ApiPropertyOptional({ example: { revenue: 42.5, currency: 'EUR' } }) properties?: Record<string, unknown>;
}
export class IdentifyDto extends CommonEventDto {
  @ApiPropertyOptional({ example: { email: 'ada@example.com', plan: 'pro' } }) traits?: Record<string, unknown>;
}
export class PageDto extends CommonEventDto {
  @ApiPropertyOptional({ example: 'Pricing' }) name?: string;
  @ApiPropertyOptional({ example: { url: 'https://example.com/pricing' } }) properties?: Record<string, unknown>;
}
export class ScreenDto extends PageDto {}
export class GroupDto extends CommonEventDto {
  @ApiProperty({ example: 'acme-inc' }) groupId: string;
  @ApiPropertyOptional({ example: { name: 'Acme Inc', employees: 42 } }) traits?: Record<string, unknown>;
}
export class AliasDto extends CommonEventDto {
  @ApiProperty({ example: 'anon-7f3e' }) previousId: string;
}

export class BatchEventDto extends CommonEventDto {
  @ApiProperty({ enum: EVENT_TYPES, example: 'track' }) type: string;
  @ApiPropertyOptional({ example: 'Signed Up' }) event?: string;
  @ApiPropertyOptional() properties?: Record<string, unknown>;
  @ApiPropertyOptional() traits?: Record<string, unknown>;
}

export class BatchDto {
  @ApiProperty({ type: [BatchEventDto] }) batch: BatchEventDto[];
  @ApiPropertyOptional({ description: 'Merged into each event\'s context' }) context?: Record<string, unknown>;
  @ApiPropertyOptional({ description: 'Merged into each event\'s integrations' }) integrations?: Record<string, unknown>;
  @ApiPropertyOptional({ example: '2026-11-25T10:00:01.000Z' }) sentAt?: string;
  @ApiPropertyOptional() writeKey?: string;
}

export class RejectedEventDto {
  @ApiProperty({ example: 3, description: 'Index of the event in the request (0 for single-event routes)' }) index: number;
  @ApiProperty({ example: 'missing_identity' }) reason: string;
  @ApiProperty({ example: 'every call needs a userId or an anonymousId' }) message: string;
}

export class IngestResponseDto {
  @ApiProperty({ example: true }) success: boolean;
  @ApiProperty({ example: 99 }) accepted: number;
  @ApiProperty({ type: [RejectedEventDto] }) rejected: RejectedEventDto[];
  @ApiProperty({ example: 0, description: 'Valid events of suppressed people: dropped, neither stored nor dead-lettered (not counted in accepted)' }) suppressed: number;
  @ApiProperty({ example: 0, description: 'Valid events the source tracking plan drops (mode drop): neither stored nor dead-lettered (not counted in accepted). Quarantined events count as accepted: they are kept in dead_letters.' }) dropped: number;
}
