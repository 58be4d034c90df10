import { Controller, ForbiddenException, Get, Header, NotFoundException, Param, Query, Req, UnauthorizedException } from '@nestjs/common';
import { ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import { basicUser } from '../auth/write-key.guard';
import { CredentialsService } from '../auth/credentials.service';
import { securityHeadersConfig } from '../common/security-headers';
import { AppConfig } from '../config';
import type { KeyPrincipal } from '../domain/principal';
import { publicBase, rudderSourceConfig, segmentSettings } from './sdk-settings';

// Browsers fetch these on every page load: let them and any CDN in front keep the answer a minute
// (a revoked key's settings may be served that long; its events are refused at once).
const CACHE = 'public, max-age=60';
const BROWSER_HEADERS = securityHeadersConfig('ingest');

/**
 * The settings routes of the browser SDKs (src/sdk-settings/sdk-settings.ts): public like the
 * write key itself, which every page that loads an SDK shows. Only a live write key gets an
 * answer; its source's limits and quotas apply where the events arrive.
 */
@ApiTags('sdk settings')
@Controller()
export class SdkSettingsController {
  constructor(
    private readonly credentials: CredentialsService,
    private readonly config: AppConfig,
  ) {}

  @Get('v1/projects/:writeKey/settings')
  @Header('Cache-Control', CACHE)
  @RouteConfig(BROWSER_HEADERS)
  @ApiOperation({
    summary: 'analytics.js settings (what cdn.segment.com serves): load analytics.js with `cdnURL` set to this Sluice',
    description: "The Segment.io integration pointed at this api (PUBLIC_URL, or the request's scheme and host), no other integration, analytics.js's own metrics off.",
  })
  @ApiOkResponse({ description: 'Settings for @segment/analytics-next' })
  @ApiNotFoundResponse({ description: 'Unknown, revoked or expired write key' })
  @ApiForbiddenResponse({ description: 'A read or admin key: those never belong in a browser' })
  @ApiTooManyRequestsResponse({ description: 'Too many lookups of unknown keys from this address (KEY_LOOKUPS_PER_IP)' })
  async segment(@Param('writeKey') writeKey: string, @Req() req: FastifyRequest) {
    const key = await this.credentials.verify(writeKey, req.ip);
    if (!key) throw new NotFoundException('Unknown, revoked or expired write key: copy the write key of a source (POST /v1/admin/sources shows it once).');
    this.assertWriteKey(key);
    return segmentSettings(writeKey, publicBase(this.config.publicUrl, req));
  }

  // The SDK asks for `/sourceConfig/`: the adapter's rewriteUrl drops that slash.
  @Get('sourceConfig')
  @Header('Cache-Control', CACHE)
  @RouteConfig(BROWSER_HEADERS)
  @ApiOperation({
    summary: "RudderStack JavaScript SDK source config (what RudderStack's control plane serves): load it with `configUrl` set to this Sluice",
    description: 'The write key comes as the HTTP Basic user name (as the SDK sends it) or as `writeKey` in the query. Other query parameters the SDK adds are ignored.',
  })
  @ApiQuery({ name: 'writeKey', required: false, description: 'The write key, when no Basic Authorization header carries it' })
  @ApiOkResponse({ description: 'A source with no destinations' })
  @ApiUnauthorizedResponse({ description: 'No write key, or an unknown, revoked or expired one' })
  @ApiForbiddenResponse({ description: 'A read or admin key: those never belong in a browser' })
  @ApiTooManyRequestsResponse({ description: 'Too many lookups of unknown keys from this address (KEY_LOOKUPS_PER_IP)' })
  async rudder(@Query('writeKey') queryKey: unknown, @Req() req: FastifyRequest) {
    const presented = basicUser(req.headers.authorization) ?? (typeof queryKey === 'string' && queryKey ? queryKey : null);
    if (!presented) throw new UnauthorizedException('Missing write key: send it as the HTTP Basic user name or as ?writeKey=.');
    const key = await this.credentials.verify(presented, req.ip);
    if (!key) throw new UnauthorizedException('Unknown, revoked or expired write key.');
    this.assertWriteKey(key);
    return rudderSourceConfig(presented, key.sourceId!, new Date());
  }

  private assertWriteKey(key: KeyPrincipal): void {
    if (key.kind !== 'write' || !key.sourceId) {
      throw new ForbiddenException(`A ${key.kind} key is a secret: put only a source's write key in a browser SDK, and revoke this one if it was published.`);
    }
  }
}
