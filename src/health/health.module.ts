import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { QueueModule } from '../queue/queue.module';
import { BacklogHealthIndicator } from './backlog.health';
import { HealthController } from './health.controller';
import { ProcessHealth } from './process-health';
import { RedisHealthIndicator } from './redis.health';

@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json', gracefulShutdownTimeoutMs: 0 }), QueueModule],
  controllers: [HealthController],
  providers: [RedisHealthIndicator, BacklogHealthIndicator, ProcessHealth],
  exports: [ProcessHealth],
})
export class HealthModule {}
