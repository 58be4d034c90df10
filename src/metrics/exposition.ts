import { Metric, OpenMetricsContentType, Registry, register } from 'prom-client';

/**
 * What `/metrics` answers, in the format the scraper asks for. Prometheus asks for OpenMetrics
 * first (its default Accept header), and only OpenMetrics carries exemplars, the trace ids on the
 * lag and HTTP duration buckets. Anything else (curl, the bench, `*\/*`) gets the classic text
 * format, unchanged.
 */
export interface Exposition {
  contentType: string;
  body: string;
}

/** True when the Accept header prefers OpenMetrics (q > 0 and at least as high as text/plain). */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  if (!accept) return false;
  let openMetrics = 0;
  let text = 0;
  for (const part of accept.split(',')) {
    const [type, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)).find(Boolean);
    const weight = q ? Number(q[1]) : 1;
    if (!Number.isFinite(weight)) continue;
    if (type.trim() === 'application/openmetrics-text') openMetrics = Math.max(openMetrics, weight);
    else if (type.trim() === 'text/plain') text = Math.max(text, weight);
  }
  return openMetrics > 0 && openMetrics >= text;
}

// prom-client's OpenMetrics rendering renames counters in place (it strips `_total` from the
// metric object and appends it per sample), which would change the names the text format prints
// later. Renders therefore run one at a time and every counter gets its name back.
let queue: Promise<unknown> = Promise.resolve();

async function renderOpenMetrics(): Promise<string> {
  const metrics = register.getMetricsAsArray();
  const names = metrics.map((m) => m.name);
  const om = openMetricsRegistry();
  for (const m of metrics) om.registerMetric(m as unknown as Metric<string>);
  try {
    return await om.metrics();
  } finally {
    metrics.forEach((m, i) => (m.name = names[i]));
  }
}

export function renderMetrics(accept: string | undefined): Promise<Exposition> {
  const openMetrics = wantsOpenMetrics(accept);
  const next = queue.then(async () =>
    openMetrics
      ? { contentType: Registry.OPENMETRICS_CONTENT_TYPE, body: await renderOpenMetrics() }
      : { contentType: register.contentType, body: await register.metrics() },
  );
  queue = next.catch(() => undefined);
  return next;
}

/**
 * A histogram with exemplars must be made on an OpenMetrics registry (prom-client refuses it on
 * the classic one); it is made on a throwaway one and then listed in the global registry, whose
 * text format simply leaves the exemplars out.
 */
export function withExemplars(): { registers: Registry<OpenMetricsContentType>[]; enableExemplars: true } {
  return { registers: [openMetricsRegistry()], enableExemplars: true };
}

function openMetricsRegistry(): Registry<OpenMetricsContentType> {
  const om = new Registry<OpenMetricsContentType>();
  om.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  return om;
}

/** Lists a metric made by withExemplars() in the global registry. */
export function listed<T extends Metric<string>>(metric: T): T {
  register.registerMetric(metric);
  return metric;
}
