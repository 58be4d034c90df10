import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, LabelValues, register } from 'prom-client';
import { listed, withExemplars } from './exposition';

type Collector = () => Promise<void> | void;

// Tests start several apps in one process; reuse a metric instead of registering it twice.
function getOrCreate<T>(name: string, create: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? create();
}

/** The exemplar of a histogram observation: the ids of a sampled span. */
export interface TraceExemplar {
  trace_id: string;
  span_id: string;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const LAG_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];

/** Every Sluice metric, defined once. Names follow docs/operations metrics list. */
@Injectable()
export class MetricsService {
  private static collectors = new Set<Collector>();
  // Refreshers of a group of metrics: each metric of the group awaits the same refresh, so one
  // scrape reads one fresh value and queries once.
  private static groups = new Map<string, { collect: Collector; inflight?: Promise<void> }>();
  private static refresh(group: string): Promise<void> | undefined {
    const g = MetricsService.groups.get(group);
    if (!g) return undefined;
    g.inflight ??= Promise.resolve(g.collect()).catch(() => undefined).finally(() => (g.inflight = undefined));
    return g.inflight;
  }

  // The two histograms an operator follows to a trace carry exemplars (OpenMetrics scrapes only):
  // the trace id of a sampled request or job, kept per bucket.
  readonly httpDuration = getOrCreate('http_request_duration_seconds', () => listed(new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration, by route pattern',
    labelNames: ['method', 'route', 'status_code'],
    buckets: LATENCY_BUCKETS,
    ...withExemplars(),
  })));
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
  readonly endToEndLag = getOrCreate('sluice_end_to_end_lag_seconds', () => listed(new Histogram({
    name: 'sluice_end_to_end_lag_seconds',
    help: 'From receivedAt at the api to the commit of the event in PostgreSQL',
    buckets: LAG_BUCKETS,
    ...withExemplars(),
  })));
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

  readonly httpBytesInFlight = getOrCreate('sluice_http_bytes_in_flight', () => new Gauge({
    name: 'sluice_http_bytes_in_flight',
    help: 'Bytes of ingestion request bodies in flight, as counted against MAX_BYTES_IN_FLIGHT',
  }));
  readonly httpBackpressureWaits = getOrCreate('sluice_http_backpressure_waits_total', () => new Counter({
    name: 'sluice_http_backpressure_waits_total',
    help: 'Ingestion requests that had to wait for room under MAX_BYTES_IN_FLIGHT, by outcome (admitted after the wait, or refused with 503 server_busy)',
    labelNames: ['outcome'],
  }));

  readonly enqueueFailures = getOrCreate('sluice_enqueue_failures_total', () => new Counter({
    name: 'sluice_enqueue_failures_total',
    help: 'Flushes the api could not add to Redis (answered 503): connection down, timeout, a job refused inside the transaction, too few replicas',
  }));
  readonly databaseAvailable = getOrCreate('sluice_database_available', () => new Gauge({
    name: 'sluice_database_available',
    help: "1 while the worker's writes reach PostgreSQL; 0 while it is holding jobs through an outage",
  }));
  readonly databaseOutageRetries = getOrCreate('sluice_database_outage_retries_total', () => new Counter({
    name: 'sluice_database_outage_retries_total',
    help: 'Writes retried because PostgreSQL was unavailable (no job attempt used up)',
  }));
  readonly jobsStalled = getOrCreate('sluice_jobs_stalled_total', () => new Counter({
    name: 'sluice_jobs_stalled_total',
    help: 'Jobs recovered after their lock lapsed (worker died or lost Redis) and run again',
  }));
  readonly queryDuration = getOrCreate('sluice_query_duration_seconds', () => new Histogram({
    name: 'sluice_query_duration_seconds',
    help: 'Query API answers by endpoint and whether the aggregate cache answered (cache: hit, miss, off; error for a failed answer)',
    labelNames: ['endpoint', 'cache'],
    buckets: LATENCY_BUCKETS,
  }));
  readonly queryCache = getOrCreate('sluice_query_cache_total', () => new Counter({
    name: 'sluice_query_cache_total',
    help: 'Aggregate cache lookups of the stats routes, by endpoint and result (hit or miss)',
    labelNames: ['endpoint', 'result'],
  }));
  readonly eventsSuppressed = getOrCreate('sluice_events_suppressed_total', () => new Counter({
    name: 'sluice_events_suppressed_total',
    help: 'Events dropped at ingestion because their person is suppressed (neither stored nor dead-lettered)',
  }));
  readonly deadLetterReplays = getOrCreate('sluice_dead_letter_replays_total', () => new Counter({
    name: 'sluice_dead_letter_replays_total',
    help: 'Dead letters sent back through ingestion by an operator (replayed), or refused again by its checks (rejected)',
    labelNames: ['outcome'],
  }));
  readonly deadLetterDiscards = getOrCreate('sluice_dead_letter_discards_total', () => new Counter({
    name: 'sluice_dead_letter_discards_total',
    help: 'Dead letters an operator discarded',
  }));
  readonly deadLettersPending = getOrCreate('sluice_dead_letters_pending', () => new Gauge({
    name: 'sluice_dead_letters_pending',
    help: 'Dead letters waiting for an operator (fix and replay, or discard), by reason code; read from the database every minute',
    labelNames: ['reason'],
  }));
  readonly jobsOrphaned = getOrCreate('sluice_jobs_orphaned_total', () => new Counter({
    name: 'sluice_jobs_orphaned_total',
    help: 'Jobs a worker put back at once after its Redis connection returned (their completion was lost with it)',
  }));
  readonly jobsSplit = getOrCreate('sluice_jobs_split_total', () => new Counter({
    name: 'sluice_jobs_split_total',
    help: 'Jobs that killed their worker JOB_MAX_STALLS times, split in halves to isolate the event causing it',
  }));
  readonly failedJobsSwept = getOrCreate('sluice_failed_jobs_swept_total', () => new Counter({
    name: 'sluice_failed_jobs_swept_total',
    help: "Jobs Bull gave up on that the sweep moved to dead_letters (or split), by outcome",
    labelNames: ['outcome'],
  }));
  readonly defaultPartitionRows = getOrCreate('sluice_events_default_partition_rows', () => new Gauge({
    name: 'sluice_events_default_partition_rows',
    help: 'Rows in events_default (no daily partition covered their day); 0 in steady state',
  }));
  readonly keyLookupsRefused = getOrCreate('sluice_key_lookups_refused_total', () => new Counter({
    name: 'sluice_key_lookups_refused_total',
    help: 'Requests refused (429) before a database key lookup: too many uncached keys from one client IP, or from all',
    labelNames: ['scope'],
  }));
  readonly unhandledDataErrors = getOrCreate('sluice_unhandled_data_errors_total', () => new Counter({
    name: 'sluice_unhandled_data_errors_total',
    help: 'PostgreSQL data errors (SQLSTATE class 22) that reached a route despite validation: answered 400, but each one is a bug to fix',
    labelNames: ['route'],
  }));
  readonly redisDurability = getOrCreate('sluice_redis_durability', () => new Gauge({
    name: 'sluice_redis_durability',
    help: 'Configured and effective Redis durability mode (value 1); degraded="1" when Redis offers less than configured',
    labelNames: ['configured', 'effective', 'degraded'],
  }));
  readonly consumerUp = getOrCreate('sluice_consumer_up', () => new Gauge({
    name: 'sluice_consumer_up',
    help: "1 while the worker's queue consumer runs; 0 once it stopped (the worker then exits non-zero)",
  }));

  readonly privacyDeletions = getOrCreate('sluice_privacy_deletions_total', () => new Counter({
    name: 'sluice_privacy_deletions_total',
    help: 'Deletion requests finished (verified: nothing of the person remains; unverified: rows kept arriving) or interrupted and left to retry (retried)',
    labelNames: ['outcome'],
  }));
  readonly privacyDeletedRows = getOrCreate('sluice_privacy_deleted_rows_total', () => new Counter({
    name: 'sluice_privacy_deleted_rows_total',
    help: 'Rows removed by deletion requests, by table (events, event_dedup, dead_letters, and rollup rows removed or lowered)',
    labelNames: ['table'],
  }));
  readonly privacyDeletionsOpen = getOrCreate('sluice_privacy_deletions_open', () => new Gauge({
    name: 'sluice_privacy_deletions_open',
    help: 'Deletion requests not done yet (pending or running)',
  }));
  readonly scheduledJobLastSuccess = getOrCreate('sluice_scheduled_job_last_success_timestamp_seconds', () => new Gauge({
    name: 'sluice_scheduled_job_last_success_timestamp_seconds',
    help: 'When a scheduled task (retention) last succeeded, on whichever worker ran it (0: never); every worker reports it from scheduled_runs',
    labelNames: ['task'],
    collect: () => MetricsService.refresh('scheduled_jobs'),
  }));
  readonly scheduledJobInterval = getOrCreate('sluice_scheduled_job_interval_seconds', () => new Gauge({
    name: 'sluice_scheduled_job_interval_seconds',
    help: 'How often a scheduled job is meant to run',
    labelNames: ['task'],
    collect: () => MetricsService.refresh('scheduled_jobs'),
  }));
  readonly scheduledJobDuration = getOrCreate('sluice_scheduled_job_last_duration_seconds', () => new Gauge({
    name: 'sluice_scheduled_job_last_duration_seconds',
    help: 'How long the last run of a scheduled job took (success or failure)',
    labelNames: ['task'],
    collect: () => MetricsService.refresh('scheduled_jobs'),
  }));
  readonly retentionRemovedRows = getOrCreate('sluice_retention_removed_rows_total', () => new Counter({
    name: 'sluice_retention_removed_rows_total',
    help: 'Rows the retention job removed, by table (events counts rows of dropped partitions and of per-source cleanups)',
    labelNames: ['table'],
  }));
  readonly retentionPartitionsDropped = getOrCreate('sluice_retention_partitions_dropped_total', () => new Counter({
    name: 'sluice_retention_partitions_dropped_total',
    help: 'Daily events partitions dropped by the retention job',
  }));
  readonly planViolations = getOrCreate('sluice_tracking_plan_violations_total', () => new Counter({
    name: 'sluice_tracking_plan_violations_total',
    help: 'Events that violated their source tracking plan, by what was done with them (allow, flag, quarantine, drop) and the kind of violation (unplanned_event, schema_violation)',
    labelNames: ['action', 'type'],
  }));
  readonly planReloads = getOrCreate('sluice_tracking_plan_reloads_total', () => new Counter({
    name: 'sluice_tracking_plan_reloads_total',
    help: 'Times an api reloaded the tracking plans in force (outcome ok or failed: the previous plans stay)',
    labelNames: ['outcome'],
  }));
  readonly liveListeners = getOrCreate('sluice_live_listeners', () => new Gauge({
    name: 'sluice_live_listeners',
    help: 'Live debugger streams (GET /v1/sources/<id>/live) this api serves now',
  }));
  readonly liveEvents = getOrCreate('sluice_live_events_total', () => new Counter({
    name: 'sluice_live_events_total',
    help: 'Accepted events of listened-to sources offered to the live debugger by this api: published to Redis (sent) or left out by the LIVE_MAX_EVENTS_PER_SECOND sampling (skipped)',
    labelNames: ['outcome'],
  }));
  /** One request's duration; `exemplar` names its trace when it was sampled. */
  observeHttp(labels: LabelValues<'method' | 'route' | 'status_code'>, seconds: number, exemplar?: TraceExemplar): void {
    this.httpDuration.observe({ labels, value: seconds, exemplarLabels: exemplar as LabelValues<string> | undefined });
  }

  /** One event's end-to-end lag; `exemplar` names the trace of the job that stored it. */
  observeLag(seconds: number, exemplar?: TraceExemplar): void {
    this.endToEndLag.observe({ value: seconds, exemplarLabels: exemplar as LabelValues<string> | undefined });
  }

  /** The scrape-time refresher of the scheduled-job gauges (read from scheduled_runs); returns its removal. */
  onCollectScheduledJobs(collect: Collector): () => void {
    MetricsService.groups.set('scheduled_jobs', { collect });
    return () => MetricsService.groups.delete('scheduled_jobs');
  }

  /** Registers a scrape-time refresher (queue counts); returns its removal. */
  onCollect(collector: Collector): () => void {
    MetricsService.collectors.add(collector);
    return () => MetricsService.collectors.delete(collector);
  }
}
