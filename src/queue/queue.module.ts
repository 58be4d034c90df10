import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { AppConfig } from '../config';
import { QueueName } from './queue.constants';
import { EventsQueueProducer } from './events-queue.producer';
import { QueueStatsService } from './queue-stats.service';
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
          // A job whose worker died is retried; never give up on it for being stalled.
          maxStalledCount: 1000,
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
  providers: [EventsQueueProducer, QueueStatsService],
  exports: [BullModule, EventsQueueProducer, QueueStatsService],
})
export class QueueModule {}
