import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Queue } from 'bull';
import { AppConfig } from '../config';
import { MetricsService } from '../metrics/metrics.service';
import { QueueName } from './queue.constants';

export type EffectiveDurability = 'fsync' | 'everysec' | 'replicas' | 'none' | 'unknown';

export interface DurabilityState {
  configured: AppConfig['redis']['durability'];
  effective: EffectiveDurability;
  /** Redis offers less than configured: a 200 is weaker than promised */
  degraded: boolean;
  detail: string;
}

const RECHECK_MS = 60_000;

/**
 * What a 200 really rests on: reads what Redis offers (`CONFIG GET appendonly/appendfsync` where
 * permitted, `INFO replication`) at start, after every reconnect and every minute, and compares
 * it with REDIS_DURABILITY. Weaker than configured: a loud warning, the `sluice_redis_durability`
 * metric with degraded="1", and /health/ready says so (it stays up: the 503s would not help).
 */
@Injectable()
export class RedisDurabilityService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(RedisDurabilityService.name);
  private timer?: NodeJS.Timeout;
  private state: DurabilityState;

  constructor(
    @InjectQueue(QueueName.Events) private readonly queue: Queue,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
  ) {
    this.state = { configured: config.redis.durability, effective: 'unknown', degraded: false, detail: 'not checked yet' };
  }

  onApplicationBootstrap(): void {
    if (!this.config.servesApi) return; // the api is what answers 200
    void this.check();
    this.queue.client.on('ready', () => void this.check());
    this.timer = setInterval(() => void this.check(), RECHECK_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  get current(): DurabilityState {
    return this.state;
  }

  async check(): Promise<DurabilityState> {
    const client = this.queue.client;
    if (client.status !== 'ready') return this.state;
    const aof: { appendonly?: string; appendfsync?: string } = {};
    let configReadable = true;
    try {
      const pairs = (await client.config('GET', 'append*')) as string[];
      for (let i = 0; i + 1 < pairs.length; i += 2) (aof as Record<string, string>)[pairs[i]] = pairs[i + 1];
    } catch {
      configReadable = false; // managed Redis (ElastiCache) refuses CONFIG
    }
    let replicas = 0;
    try {
      replicas = Number(/connected_slaves:(\d+)/.exec(await client.info('replication'))?.[1] ?? 0);
    } catch {
      // keep 0
    }
    const fsync = aof.appendonly === 'yes' && aof.appendfsync === 'always';
    const { durability: configured, waitReplicas } = this.config.redis;
    let effective: EffectiveDurability;
    if (configured === 'replicas' && replicas >= waitReplicas) effective = 'replicas';
    else if (fsync) effective = 'fsync';
    else if (aof.appendonly === 'yes' && aof.appendfsync === 'everysec') effective = 'everysec';
    else if (!configReadable) effective = 'unknown';
    else effective = 'none';
    const degraded = configured === 'none' ? false : configured === 'fsync' ? effective !== 'fsync' : replicas < waitReplicas;
    const detail = `appendonly=${aof.appendonly ?? '?'} appendfsync=${aof.appendfsync ?? '?'}${configReadable ? '' : ' (CONFIG not permitted)'}, ${replicas} connected replica(s)`;
    const changed = degraded !== this.state.degraded || effective !== this.state.effective;
    this.state = { configured, effective, degraded, detail };
    this.metrics.redisDurability.reset();
    this.metrics.redisDurability.set({ configured, effective, degraded: degraded ? '1' : '0' }, 1);
    if (changed && degraded) {
      this.logger.warn(
        `REDIS DURABILITY IS WEAKER THAN CONFIGURED: REDIS_DURABILITY=${configured} but Redis offers ${effective} (${detail}). ` +
          (configured === 'fsync'
            ? 'Acknowledged events may be lost if Redis crashes: run Redis with appendonly yes and appendfsync always, or set REDIS_DURABILITY=replicas or none.'
            : `Enqueues will be answered 503 until ${waitReplicas} replica(s) acknowledge writes.`),
      );
    } else if (changed) {
      this.logger.log(`Redis durability: ${effective} (${detail})`);
    }
    return this.state;
  }
}
