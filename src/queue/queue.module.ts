import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { AppConfig } from '../config';
import { QueueName } from './queue.constants';
import { EventsQueueProducer } from './events-queue.producer';
import { QueueStatsService } from './queue-stats.service';
import { RedisDurabilityService } from './redis-durability.service';
import { OrphanedJobs } from './orphaned-jobs';
import { MetricsModule } from '../metrics/metrics.module';
import { RedisConnections } from '../redis/redis-connections';
import { RedisModule } from '../redis/redis.module';

@Module({
  imports: [
    RedisModule,
    MetricsModule,
    BullModule.forRootAsync({
      imports: [RedisModule],
      inject: [AppConfig, RedisConnections],
      useFactory: (config: AppConfig, redis: RedisConnections) => ({
        prefix: config.redis.prefix,
        createClient: (type) => redis.create(config.redis.url, type),
        settings: {
          lockDuration: config.worker.lockMs,
          stalledInterval: config.worker.stalledIntervalMs,
          // A job whose worker died is run again; one that killed its worker this many times is
          // moved to the failed set, where the maintenance sweep splits it to isolate the poison.
          maxStalledCount: config.worker.maxStalls,
          // After a Redis error (a restart, a failover) each worker slot waits this long before it
          // takes jobs again; Bull's 5 s default left the queue unconsumed for seconds after every
          // Redis blip. While Redis is down the retry parks on the reconnecting connection.
          retryProcessDelay: 250,
        },
        defaultJobOptions: {
          attempts: config.worker.attempts,
          backoff: { type: 'exponential', delay: config.worker.backoffMs },
          removeOnComplete: true,
          // Failed jobs stay in Redis until the worker has copied them to dead_letters.
          removeOnFail: false,
        },
      }),
    }),
    BullModule.registerQueue({ name: QueueName.Events }),
  ],
  providers: [EventsQueueProducer, QueueStatsService, RedisDurabilityService, OrphanedJobs],
  exports: [BullModule, EventsQueueProducer, QueueStatsService, RedisDurabilityService, OrphanedJobs],
})
export class QueueModule {}
