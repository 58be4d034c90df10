import { Attributes, Link, Span, SpanContext, SpanKind, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api';

/**
 * Sluice's own spans, and the W3C trace context that crosses the queue in each JobRequest.
 * Only the OpenTelemetry API is used here: with tracing off (the default) it is never told of a
 * provider, every helper returns at its first line, and no span object is made.
 */
let on = false;
let followParent = false;

/**
 * start-tracing.ts calls it once the SDK is registered. With a parent-based sampler a child of an
 * unsampled span is never sampled, so our spans under one are not made at all: at 1 % sampling
 * the other 99 % of requests pay for no span object and no context switch of ours.
 */
export function markTracingOn(options: { followParent: boolean } = { followParent: false }): void {
  on = true;
  followParent = options.followParent;
}

/** True when a child span made now would be recorded (or might be: the sampler decides). */
function worthASpan(options: SpanOptions): boolean {
  if (!on) return false;
  if (options.root || !followParent) return true;
  const parent = trace.getActiveSpan();
  return parent === undefined || parent.isRecording();
}

export function tracingOn(): boolean {
  return on;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** `00-<trace id>-<span id>-<flags>`: the W3C traceparent of a span context. */
export function formatTraceparent(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** The remote span context a traceparent names; undefined when it is absent or malformed. */
export function parseTraceparent(value: unknown): SpanContext | undefined {
  if (typeof value !== 'string') return undefined;
  const m = TRACEPARENT.exec(value);
  if (!m || m[1] === ZERO_TRACE || m[2] === ZERO_SPAN) return undefined;
  return { traceId: m[1], spanId: m[2], traceFlags: parseInt(m[3], 16) & TraceFlags.SAMPLED, isRemote: true };
}

/** The traceparent of the span active now, to travel with a job; undefined when nothing is traced. */
export function currentTraceparent(): string | undefined {
  if (!on) return undefined;
  const sc = trace.getActiveSpan()?.spanContext();
  return sc && trace.isSpanContextValid(sc) ? formatTraceparent(sc) : undefined;
}

/** One link per distinct valid traceparent (a job's requests), for a span serving them all. */
export function linksTo(traceparents: Iterable<string | undefined>): Link[] {
  const seen = new Set<string>();
  const links: Link[] = [];
  for (const tp of traceparents) {
    if (!tp || seen.has(tp)) continue;
    seen.add(tp);
    const context = parseTraceparent(tp);
    if (context) links.push({ context });
  }
  return links;
}

/** trace_id and span_id of the active span, for log lines; undefined when nothing is traced. */
export function activeTraceIds(): { trace_id: string; span_id: string } | undefined {
  if (!on) return undefined;
  const sc = trace.getActiveSpan()?.spanContext();
  return sc && trace.isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : undefined;
}

/** The same ids, only when the active span is sampled (exported): an exemplar must lead to a trace. */
export function sampledTraceIds(): { trace_id: string; span_id: string } | undefined {
  if (!on) return undefined;
  const sc = trace.getActiveSpan()?.spanContext();
  return sc && sc.traceFlags & TraceFlags.SAMPLED && trace.isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : undefined;
}

export interface SpanOptions {
  attributes?: Attributes;
  links?: Link[];
  kind?: SpanKind;
  /** Start a new trace rather than a child of the active span (links then say what it serves). */
  root?: boolean;
}

const tracer = () => trace.getTracer('sluice');

/**
 * A failed span says what kind of error, never its message: PostgreSQL and validation messages
 * may quote event content.
 */
function fail(span: Span, err: unknown): void {
  const e = err as { name?: string; code?: unknown };
  span.setStatus({ code: SpanStatusCode.ERROR });
  span.setAttribute('error.type', typeof e?.code === 'string' ? e.code : (e?.name ?? 'Error'));
}

/** Runs `fn` inside a span named `name` (the active one while it runs); just runs it when tracing is off. */
export async function inSpan<T>(name: string, options: SpanOptions, fn: (span: Span | undefined) => Promise<T>): Promise<T> {
  if (!worthASpan(options)) return fn(undefined);
  return tracer().startActiveSpan(name, options, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      fail(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/** The synchronous inSpan. */
export function inSpanSync<T>(name: string, options: SpanOptions, fn: (span: Span | undefined) => T): T {
  if (!worthASpan(options)) return fn(undefined);
  return tracer().startActiveSpan(name, options, (span) => {
    try {
      return fn(span);
    } catch (err) {
      fail(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/** A span the caller ends (one that outlives a call, such as a micro-batch wait); undefined when off. */
export function startSpan(name: string, options: SpanOptions = {}): Span | undefined {
  return worthASpan(options) ? tracer().startSpan(name, options) : undefined;
}

export { SpanKind };
export type { Span };

/** Adds attributes to the span active now (nothing when tracing is off or none is active). */
export function annotateActiveSpan(attributes: Attributes): void {
  if (on) trace.getActiveSpan()?.setAttributes(attributes);
}
