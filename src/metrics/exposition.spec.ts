import { Counter, Histogram, register } from 'prom-client';
import { listed, renderMetrics, wantsOpenMetrics, withExemplars } from './exposition';

describe('wantsOpenMetrics', () => {
  it.each([
    // Prometheus's own default Accept header
    ['application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2', true],
    ['application/openmetrics-text; version=1.0.0', true],
    ['text/plain;version=0.0.4;q=1,application/openmetrics-text;q=0.5', false],
    ['*/*', false],
    ['text/plain', false],
    ['application/openmetrics-text;q=0', false],
    ['', false],
    [undefined, false],
  ])('%s -> %s', (accept, expected) => {
    expect(wantsOpenMetrics(accept)).toBe(expected);
  });
});

describe('renderMetrics', () => {
  const suffix = Math.random().toString(36).slice(2, 8);
  const counterName = `exposition_test_${suffix}_total`;
  const counter = new Counter({ name: counterName, help: 'test counter' });
  const histogram = listed(
    new Histogram({ name: `exposition_test_${suffix}_seconds`, help: 'test histogram', buckets: [0.1, 1], ...withExemplars() }),
  );
  afterAll(() => {
    register.removeSingleMetric(counterName);
    register.removeSingleMetric(`exposition_test_${suffix}_seconds`);
  });

  it('prints exemplars in OpenMetrics only, and leaves counter names as the text format had them', async () => {
    counter.inc();
    histogram.observe({ value: 0.5, exemplarLabels: { trace_id: 'a'.repeat(32), span_id: 'b'.repeat(16) } });
    histogram.observe({ value: 0.05 });

    const om = await renderMetrics('application/openmetrics-text; version=1.0.0');
    expect(om.contentType).toMatch(/^application\/openmetrics-text/);
    expect(om.body.endsWith('# EOF\n')).toBe(true);
    const bucket = om.body.split('\n').find((l) => l.startsWith(`exposition_test_${suffix}_seconds_bucket{le="1"}`));
    expect(bucket).toMatch(new RegExp(`# \\{trace_id="a{32}",span_id="b{16}"\\} 0.5 \\d`));
    expect(om.body).toContain(`exposition_test_${suffix}_total 1`);

    const text = await renderMetrics('*/*');
    expect(text.contentType).toMatch(/^text\/plain/);
    expect(text.body).not.toContain('trace_id=');
    expect(text.body).toContain(`# TYPE exposition_test_${suffix}_total counter`);
    expect(text.body).toContain(`exposition_test_${suffix}_total 1`);
    expect(text.body).toContain(`exposition_test_${suffix}_seconds_bucket{le="0.1"} 1`);
  });

  it('renders concurrent scrapes of both formats consistently', async () => {
    const outs = await Promise.all([renderMetrics('application/openmetrics-text'), renderMetrics(undefined), renderMetrics('application/openmetrics-text'), renderMetrics(undefined)]);
    for (const out of outs.filter((o) => o.contentType.startsWith('text/plain'))) {
      expect(out.body).toContain(`# TYPE exposition_test_${suffix}_total counter`);
    }
  });
});
