import { context, Context, trace } from '@opentelemetry/api';
import { AcceptedEvent, JobRequest } from '../queue/queue.constants';
import { inSpan, linksTo, Span, SpanKind, startSpan, tracingOn } from '../tracing/trace-context';

/**
 * The spans of micro-batching (used only while tracing is on). Each request's
 * `ingest.batch_wait` runs from MicroBatcher.add until the flush that carries its events starts.
 * One flush serves many requests: its `queue.enqueue` span is a child of the first request's
 * (the one whose events opened the batch) and links to each of the others.
 */
export class BatchTracing {
  private readonly waiting = new Map<JobRequest, { span: Span | undefined; ctx: Context }>();

  /** Called as a request hands its events to the batcher. */
  waitStarts(req: JobRequest, events: number): void {
    if (!tracingOn() || this.waiting.has(req)) return;
    const span = startSpan('ingest.batch_wait', { attributes: { 'sluice.source.id': req.s, 'sluice.events.count': events } });
    this.waiting.set(req, { span, ctx: context.active() });
  }

  /** A request whose add failed before any flush (nothing will end its wait). */
  abandon(req: JobRequest): void {
    const w = this.waiting.get(req);
    if (!w) return;
    this.waiting.delete(req);
    w.span?.end();
  }

  /** Runs the flush `enqueue` of these events inside its span, ending the waits it serves. */
  flush(events: AcceptedEvent[], enqueue: () => Promise<void>): Promise<void> {
    if (!tracingOn()) return enqueue();
    const reqs = [...new Set(events.map((a) => a.req))];
    let parent: Context | undefined;
    for (const req of reqs) {
      const w = this.waiting.get(req);
      if (!w) continue;
      this.waiting.delete(req);
      w.span?.setAttribute('sluice.batch.requests', reqs.length);
      w.span?.end();
      parent ??= w.ctx;
    }
    const first = parent ? trace.getSpanContext(parent) : undefined;
    const links = linksTo(reqs.map((r) => r.tp)).filter((l) => l.context.spanId !== first?.spanId);
    const sources = [...new Set(reqs.map((r) => r.s))];
    return context.with(parent ?? context.active(), () =>
      inSpan(
        'queue.enqueue',
        { kind: SpanKind.PRODUCER, links, attributes: { 'sluice.events.count': events.length, 'sluice.batch.requests': reqs.length, 'sluice.source.ids': sources } },
        enqueue,
      ),
    );
  }
}
