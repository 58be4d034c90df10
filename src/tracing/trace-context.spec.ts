import { TraceFlags } from '@opentelemetry/api';
import { currentTraceparent, formatTraceparent, inSpanSync, linksTo, parseTraceparent } from './trace-context';

describe('trace context across the queue', () => {
  const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

  it('formats and parses a W3C traceparent (inject, then extract in the worker)', () => {
    const sc = parseTraceparent(tp)!;
    expect(sc).toEqual({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED, isRemote: true });
    expect(formatTraceparent(sc)).toBe(tp);
  });

  it.each([undefined, 42, '', 'garbage', '01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', `00-${'0'.repeat(32)}-b7ad6b7169203331-01`, `00-0af7651916cd43dd8448eb211c80319c-${'0'.repeat(16)}-01`, tp.toUpperCase()])(
    'refuses a malformed traceparent %p',
    (value) => expect(parseTraceparent(value)).toBeUndefined(),
  );

  it('links once to each distinct request of a job, skipping those without context', () => {
    const other = '00-11111111111111111111111111111111-2222222222222222-00';
    const links = linksTo([tp, undefined, other, tp, 'bad']);
    expect(links.map((l) => l.context.spanId)).toEqual(['b7ad6b7169203331', '2222222222222222']);
    expect(links[1].context.traceFlags).toBe(TraceFlags.NONE);
  });

  it('costs nothing while tracing is off: no context to inject, spans just run their function', () => {
    expect(currentTraceparent()).toBeUndefined();
    expect(inSpanSync('x', {}, (span) => span)).toBeUndefined();
  });
});
