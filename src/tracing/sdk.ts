import { FastifyOtelInstrumentation } from '@fastify/otel';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
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
import type { IncomingMessage } from 'node:http';
import type { TracingConfig } from '../config';

/**
 * The OpenTelemetry SDK, loaded only when tracing is on (start-tracing.ts requires this file
 * lazily): a tracer provider exporting OTLP/HTTP (JSON) in batches, and the instrumentations
 * of http, Fastify, pg and ioredis, each set to record no header, no query parameter and no
 * Redis argument (those carry write keys and event content).
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
      new HttpInstrumentation({
        // Probes and scrapes are not worth a trace each.
        ignoreIncomingRequestHook: (req: IncomingMessage) => /^\/(health\/|metrics(\?|$))/.test(req.url ?? ''),
        // Only the spans of our own outgoing calls (none today but the exporter's, which it suppresses).
        requireParentforOutgoingSpans: true,
        headersToSpanAttributes: { server: { requestHeaders: [], responseHeaders: [] }, client: { requestHeaders: [], responseHeaders: [] } },
      }),
      // One span per request with its route; no span per lifecycle hook or for the handler
      // (Nest adds several hooks to every route: a span each, on every request, sampled or not).
      new FastifyOtelInstrumentation({
        registerOnInitialization: true,
        instrumentHooks: false,
        instrumentHandler: false,
        ignorePaths: (opts: { url: string }) => /^\/(health\/|metrics(\?|$))/.test(opts.url),
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
