/**
 * What the browser SDKs fetch before they send anything: analytics.js asks its CDN for
 * `/v1/projects/<writeKey>/settings`, RudderStack's JavaScript SDK asks its control plane for
 * `/sourceConfig`. Pointed at Sluice (analytics.js `cdnURL`, RudderStack `configUrl`), these
 * answers tell them to send every event to Sluice and to nothing else: no destination, no
 * device-mode integration, no metrics or error reports to the vendor.
 */

/** The routes, for CORS (open to every origin, GET) and the security headers of ingestion. */
export const SDK_SETTINGS_ROUTE = /^\/(?:v1\/projects\/[^/?]+\/settings|sourceConfig\/?)(?:\?|$)/;

/** Where SDKs reach this api: `scheme://host[/prefix]` without a trailing slash. */
export interface PublicBase {
  protocol: 'http' | 'https';
  /** host[:port][/prefix] */
  hostAndPath: string;
}

/**
 * PUBLIC_URL when configured; otherwise the request's own scheme and host (Fastify honours
 * X-Forwarded-Proto and X-Forwarded-Host only with TRUST_PROXY).
 */
export function publicBase(configured: string | null, request: { protocol: string; host: string }): PublicBase {
  if (configured) {
    const m = /^(https?):\/\/(.+)$/.exec(configured)!;
    return { protocol: m[1] as 'http' | 'https', hostAndPath: m[2].replace(/\/+$/, '') };
  }
  return { protocol: request.protocol === 'https' ? 'https' : 'http', hostAndPath: request.host };
}

/** analytics.js (@segment/analytics-next) CDN settings: every call to Sluice's Tracking API. */
export function segmentSettings(writeKey: string, base: PublicBase) {
  return {
    integrations: {
      'Segment.io': {
        apiKey: writeKey,
        apiHost: `${base.hostAndPath}/v1`,
        protocol: base.protocol,
        unbundledIntegrations: [],
        addBundledMetadata: true,
        maybeBundledConfigIds: {},
        versionSettings: { componentTypes: [] },
      },
    },
    plan: { track: { __default: { enabled: true, integrations: {} } }, identify: { __default: { enabled: true } }, group: { __default: { enabled: true } } },
    edgeFunction: {},
    analyticsNextEnabled: true,
    middlewareSettings: {},
    enabledMiddleware: {},
    // sampleRate 0: analytics.js would otherwise post its own usage metrics to api.segment.io.
    metrics: { sampleRate: 0 },
    legacyVideoPluginsEnabled: false,
    remotePlugins: [],
  };
}

/** RudderStack JavaScript SDK (v3) source config: no destinations, no stats to RudderStack. */
export function rudderSourceConfig(writeKey: string, sourceId: string, now: Date) {
  return {
    isHosted: false,
    source: {
      id: sourceId,
      writeKey,
      enabled: true,
      workspaceId: 'sluice',
      config: { statsCollection: { errorReports: { enabled: false }, metrics: { enabled: false } } },
      destinations: [],
    },
    updatedAt: now.toISOString(),
  };
}
