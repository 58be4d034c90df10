import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, register } from 'prom-client';

type Collector = () => Promise<void> | void;

// Tests start several apps in one process; reuse a metric instead of registering it twice.
function getOrCreate<T>(name: string, create: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? create();
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const LAG_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];

/** Every Sluice metric, defined once. Names follow docs/operations metrics list. */
@Injectable()
export class MetricsService {
  private static collectors = new Set<Collector>();

  readonly httpDuration = getOrCreate('http_request_duration_seconds', () => new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration, by route pattern',
    labelNames: ['method', 'route', 'status_code'],
    buckets: LATENCY_BUCKETS,
  }));
  readonly eventsReceived = getOrCreate('sluice_events_received_total', () => new Counter({
    name: 'sluice_events_received_total',
    help: 'Events accepted by the api and queued',
    labelNames: ['type'],
  }));
  readonly eventsRejected = getOrCreate('sluice_events_rejected_total', () => new Counter({
    name: 'sluice_events_rejected_total',
    help: 'Events (or whole requests, counted once) refused by the api, by reason',
    labelNames: ['reason'],
  }));
  readonly eventsPersisted = getOrCreate('sluice_events_persisted_total', () => new Counter({
    name: 'sluice_events_persisted_total',
    help: 'Events written to PostgreSQL',
  }));
  readonly eventsDeduplicated = getOrCreate('sluice_events_deduplicated_total', () => new Counter({
    name: 'sluice_events_deduplicated_total',
    help: 'Events dropped because their (source, messageId) was already stored',
  }));
  readonly eventsDeadLettered = getOrCreate('sluice_events_dead_lettered_total', () => new Counter({
    name: 'sluice_events_dead_lettered_total',
    help: 'Events moved to the dead_letters table',
  }));
  readonly queueJobs = getOrCreate('sluice_queue_jobs', () => new Gauge({
    name: 'sluice_queue_jobs',
    help: 'Jobs in the queue, by state',
    labelNames: ['queue', 'state'],
    async collect() {
      await Promise.all([...MetricsService.collectors].map((c) => c()));
    },
  }));
  readonly queueBacklogEvents = getOrCreate('sluice_queue_backlog_events', () => new Gauge({
    name: 'sluice_queue_backlog_events',
    help: 'Events waiting in the queue (accepted, not yet persisted)',
  }));
  readonly backlogLimitEvents = getOrCreate('sluice_backlog_limit_events', () => new Gauge({
    name: 'sluice_backlog_limit_events',
    help: 'Backlog above which ingestion answers 503 (0: no limit)',
  }));
  readonly endToEndLag = getOrCreate('sluice_end_to_end_lag_seconds', () => new Histogram({
    name: 'sluice_end_to_end_lag_seconds',
    help: 'From receivedAt at the api to the commit of the event in PostgreSQL',
    buckets: LAG_BUCKETS,
  }));
  readonly dbWriteDuration = getOrCreate('sluice_db_write_duration_seconds', () => new Histogram({
    name: 'sluice_db_write_duration_seconds',
    help: "Duration of one job's insert statement",
    buckets: LATENCY_BUCKETS,
  }));
  readonly enqueueDuration = getOrCreate('sluice_enqueue_duration_seconds', () => new Histogram({
    name: 'sluice_enqueue_duration_seconds',
    help: 'Duration of adding jobs to Redis',
    buckets: LATENCY_BUCKETS,
  }));
  readonly throttledRequests = getOrCreate('sluice_throttled_requests_total', () => new Counter({
    name: 'sluice_throttled_requests_total',
    help: 'Requests refused with 429, by source',
    labelNames: ['source'],
  }));
  readonly throttledEvents = getOrCreate('sluice_throttled_events_total', () => new Counter({
    name: 'sluice_throttled_events_total',
    help: 'Events in requests refused with 429, by source',
    labelNames: ['source'],
  }));
  readonly backpressureRejections = getOrCreate('sluice_backpressure_rejections_total', () => new Counter({
    name: 'sluice_backpressure_rejections_total',
    help: 'Requests refused with 503 because the queue backlog passed its limit',
  }));

  /** Registers a scrape-time refresher (queue counts); returns its removal. */
  onCollect(collector: Collector): () => void {
    MetricsService.collectors.add(collector);
    return () => MetricsService.collectors.delete(collector);
  }
}
