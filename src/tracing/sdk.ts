import { FastifyOtelInstrumentation } from '@fastify/otel';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  NodeTracerProvider,
  ParentBasedSampler,
  Sampler,
  Span,
  SpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-node';
import type { Span as ApiSpan } from '@opentelemetry/api';
import type { FastifyRequest } from 'fastify';
import type { TracingConfig } from '../config';

/**
 * The OpenTelemetry SDK, loaded only when tracing is on (start-tracing.ts requires this file
 * lazily): a tracer provider exporting OTLP/HTTP (JSON) in batches, and the instrumentations
 * of Fastify (the HTTP server span), pg and ioredis, each set to record no header, no query
 * parameter and no Redis argument (those carry write keys and event content).
 */
export function startSdk(config: TracingConfig, role: string): () => Promise<void> {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ ...config.resourceAttributes, 'service.name': config.serviceName, 'sluice.role': role }),
    sampler: sampler(config),
    spanProcessors: [new QueryStringRemover(), new BatchSpanProcessor(new OTLPTraceExporter({ url: config.tracesUrl, headers: {} }))],
  });
  // The W3C traceparent/tracestate propagator and the AsyncLocalStorage context manager.
  provider.register();
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      // The request's SERVER span: @fastify/otel extracts the caller's traceparent and names the
      // span after the route. The http instrumentation is not loaded: under Fastify it only added
      // a second span per request, and its per-request work (attributes, bound emitters) was the
      // largest part of what tracing cost unsampled requests (docs/observability.md).
      new FastifyOtelInstrumentation({
        registerOnInitialization: true,
        // No span per lifecycle hook or for the handler: Nest adds several hooks to every route.
        instrumentHooks: false,
        instrumentHandler: false,
        ignorePaths: (opts: { url: string }) => /^\/(health\/|metrics(\?|$))/.test(opts.url),
        requestHook: (span: ApiSpan, request: FastifyRequest) => span.updateName(`${request.method} ${request.routeOptions.url ?? 'unmatched'}`),
      }),
      // The statement text only (our SQL is parameterised); never its values.
      new PgInstrumentation({ requireParentSpan: true, enhancedDatabaseReporting: false, ignoreConnectSpans: true }),
      // Bull polls Redis all the time: only commands made inside a traced request or job, and
      // only the command name (Bull's arguments are the job payload).
      new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: (cmd: string) => cmd }),
    ],
  });
  return async () => {
    unregister();
    await provider.shutdown();
  };
}

const URL_ATTRIBUTES = ['url.path', 'url.full', 'http.target', 'http.url'];

/**
 * Takes the query string out of the URL attributes the http and Fastify instrumentations set
 * (query API filters name users and event values), before the span is exported.
 */
export class QueryStringRemover implements SpanProcessor {
  onStart(): void {}
  onEnding(span: Span): void {
    for (const key of URL_ATTRIBUTES) {
      const value = span.attributes[key];
      if (typeof value === 'string' && value.includes('?')) span.setAttribute(key, value.slice(0, value.indexOf('?')));
    }
    if (span.attributes['url.query'] !== undefined) span.setAttribute('url.query', '[removed]');
  }
  onEnd(): void {}
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

function sampler(config: TracingConfig): Sampler {
  const base = (name: string): Sampler =>
    name.endsWith('always_off') ? new AlwaysOffSampler() : name.endsWith('traceidratio') ? new TraceIdRatioBasedSampler(config.ratio) : new AlwaysOnSampler();
  return config.sampler.startsWith('parentbased_') ? new ParentBasedSampler({ root: base(config.sampler) }) : base(config.sampler);
}
