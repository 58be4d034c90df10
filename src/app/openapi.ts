import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/** Swagger UI at /docs, the OpenAPI document at /docs-json (the route list tests compare with). */
export function setUpOpenApi(app: NestFastifyApplication): void {
  const doc = new DocumentBuilder()
    .setTitle('Sluice')
    .setDescription(
      'Segment-compatible event ingestion.\n\n' +
        '**Keys.** Write keys (`sk_write_…`, one source, ingestion only) go as the HTTP Basic user name (empty password), ' +
        'the `X-Write-Key` header, or `writeKey` in the body. Read keys (`sk_read_…`, the query API, scoped to some or all ' +
        'sources) and admin keys (`sk_admin_…`, everything) go as `Authorization: Bearer <key>`. The bootstrap `ADMIN_TOKEN` ' +
        'can only create admin keys. No or unknown key: 401; a key not allowed on the route or source: 403.\n\n' +
        '**Limits.** Per source: requests/s, events/s (a batch counts its events) and events per UTC day; per key on ' +
        'admin and query routes: API_RATE_LIMIT_RPS. Over a limit: 429 with `Retry-After` and `X-RateLimit-Limit`, ' +
        '`X-RateLimit-Remaining`, `X-RateLimit-Reset` (seconds). Queue backlog over its limit or Redis down: 503 with `Retry-After`.',
    )
    .setVersion('1')
    .addBasicAuth({ type: 'http', scheme: 'basic', description: 'Write key as the user name, empty password' }, 'writeKey')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Write-Key', description: 'Write key' }, 'writeKeyHeader')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An admin key (sk_admin_…) or read key (sk_read_…)' }, 'apiKey')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'The bootstrap ADMIN_TOKEN: only creates admin keys' }, 'adminToken')
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, doc), { jsonDocumentUrl: 'docs-json' });
}
