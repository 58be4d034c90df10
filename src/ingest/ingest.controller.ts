import { Body, Controller, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import {
  ApiBadRequestResponse,
  ApiBasicAuth,
  ApiBody,
  ApiForbiddenResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiSecurity,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { KeyPrincipal } from '../domain/principal';
import { WriteKeyGuard } from '../auth/write-key.guard';
import { securityHeadersConfig } from '../common/security-headers';
import { IngestRateLimitGuard } from '../ratelimit/ingest-rate-limit.guard';
import { EventType } from '../domain/events/event-types';
import { AliasDto, BatchDto, GroupDto, IdentifyDto, IngestResponseDto, PageDto, ScreenDto, TrackDto } from './ingest.dto';
import { IngestContext, IngestResult, IngestService } from './ingest.service';

/** The hottest routes get the lean header set (src/common/security-headers.ts). */
const STATIC_SECURITY_HEADERS = securityHeadersConfig('ingest');

export interface IngestResponse extends IngestResult {
  success: true;
}

/**
 * The Segment HTTP Tracking API. Short paths (/v1/t, /v1/i, ...) are the ones analytics.js
 * (analytics-next) posts to; /v1/import is Segment's historical-import alias of /v1/batch.
 */
@ApiTags('ingestion')
@ApiBasicAuth('writeKey')
@ApiSecurity('writeKeyHeader')
@ApiHeader({ name: 'Content-Encoding', required: false, description: '`gzip` to send a compressed body' })
@ApiHeader({ name: 'X-Request-Id', required: false, description: 'Echoed back and attached to every log line of the request' })
@ApiUnauthorizedResponse({ description: 'Missing or unknown write key' })
@ApiForbiddenResponse({ description: 'A read or admin key instead of a write key' })
@ApiPayloadTooLargeResponse({ description: 'Body over MAX_REQUEST_BYTES after decompression' })
@ApiServiceUnavailableResponse({ description: 'Queue unavailable, backlog over its limit, or this api process busy (`server_busy`: request bodies in flight fill MAX_BYTES_IN_FLIGHT); retry after Retry-After seconds' })
@ApiOkResponse({ type: IngestResponseDto, description: 'Every accepted event is durably queued' })
@ApiBadRequestResponse({ description: 'Invalid JSON, bad gzip, or no valid event; the body lists reasons' })
@ApiTooManyRequestsResponse({ description: "Over the source's requests/s, events/s or daily quota; see Retry-After and X-RateLimit-*" })
@UseGuards(WriteKeyGuard, IngestRateLimitGuard)
@Controller('v1')
export class IngestController {
  constructor(private readonly ingest: IngestService) {}

  @Post(['track', 't'])
  @HttpCode(200)
  @RouteConfig(STATIC_SECURITY_HEADERS)
  @ApiOperation({ summary: 'Record an action a user performed' })
  @ApiBody({ type: TrackDto })
  track(@Body() body: unknown, @Req() req: FastifyRequest): Promise<IngestResponse> {
    return this.single('track', body, req);
  }

  @Post(['identify', 'i'])
  @HttpCode(200)
  @RouteConfig(STATIC_SECURITY_HEADERS)
  @ApiOperation({ summary: 'Tie a user to their traits' })
  @ApiBody({ type: IdentifyDto })
  identify(@Body() body: unknown, @Req() req: FastifyRequest): Promise<IngestResponse> {
    return this.single('identify', body, req);
  }

  @Post(['page', 'p'])
  @HttpCode(200)
  @RouteConfig(STATIC_SECURITY_HEADERS)
  @ApiOperation({ summary: 'Record a page view' })
  @ApiBody({ type: PageDto })
  page(@Body() body: unknown, @Req() req: FastifyRequest): Promise<IngestResponse> {
    return this.single('page', body, req);
  }

  @Post(['screen', 's'])
  @HttpCode(200)
  @RouteConfig(STATIC_SECURITY_HEADERS)
  @ApiOperation({ summary: 'Record a mobile screen view' })
  @ApiBody({ type: ScreenDto })
  screen(@Body() body: unknown, @Req() req: FastifyRequest): Promise<IngestResponse> {
    return this.single('screen', body, req);
  }

  @Post(['group', 'g'])
  @HttpCode(200)
  @RouteConfig(STATIC_SECURITY_HEADERS)
  @ApiOperation({ summary: 'Associate a user with a group' })
  @ApiBody({ type: GroupDto })
  group(@Body() body: unknown, @Req() req: FastifyRequest): Promise<IngestResponse> {
    return this.single('group', body, req);
  }

  @Post(['alias', 'a'])
  @HttpCode(200)
  @RouteConfig(STATIC_SECURITY_HEADERS)
  @ApiOperation({ summary: 'Merge two user identities' })
  @ApiBody({ type: AliasDto })
  alias(@Body() body: unknown, @Req() req: FastifyRequest): Promise<IngestResponse> {
    return this.single('alias', body, req);
  }

  @Post(['batch', 'b', 'import'])
  @HttpCode(200)
  @RouteConfig(STATIC_SECURITY_HEADERS)
  @ApiOperation({ summary: 'Send many events at once; invalid ones are rejected one by one' })
  @ApiBody({ type: BatchDto })
  async batch(@Body() body: unknown, @Req() req: FastifyRequest): Promise<IngestResponse> {
    return accepted(req, await this.ingest.ingestBatch(body, context(req)));
  }

  private async single(type: EventType, body: unknown, req: FastifyRequest): Promise<IngestResponse> {
    return accepted(req, await this.ingest.ingestOne(type, body, context(req)));
  }
}

/** What the request got queued: the rate limiter refunds whatever it counted beyond this (src/ratelimit/rate-limit-refunds.ts). */
function accepted(req: FastifyRequest, result: IngestResult): IngestResponse {
  req.acceptedEvents = result.accepted;
  return { success: true, ...result };
}

function context(req: FastifyRequest): IngestContext {
  const length = Number(req.headers['content-length']);
  const key = req.principal as KeyPrincipal;
  return {
    sourceId: key.sourceId!,
    retentionDays: key.limits.retentionDays,
    requestId: req.id,
    ip: req.ip,
    // Only a plain (uncompressed) body's length bounds every event in it.
    bodyBytes: req.headers['content-encoding'] || !Number.isFinite(length) ? undefined : length,
  };
}
