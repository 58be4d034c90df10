import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { AppConfig } from '../config';
import { QueueName } from './queue.constants';
import { EventsQueueProducer } from './events-queue.producer';
import { QueueStatsService } from './queue-stats.service';
import { RedisDurabilityService } from './redis-durability.service';
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
  providers: [EventsQueueProducer, QueueStatsService, RedisDurabilityService],
  exports: [BullModule, EventsQueueProducer, QueueStatsService, RedisDurabilityService],
})
export class QueueModule {}
