import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig, ConfigModule } from '../config';
import { DatabaseModule } from '../database/database.module';
import { HealthModule } from '../health/health.module';
import { MetricsModule } from '../metrics/metrics.module';
import { QueueModule } from '../queue/queue.module';

/** What every role shares: config, PostgreSQL, the queue, metrics and health. */
@Module({})
export class CoreModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: CoreModule,
      imports: [ConfigModule.forRoot(config), MetricsModule, DatabaseModule, QueueModule, HealthModule],
      exports: [ConfigModule, MetricsModule, DatabaseModule, QueueModule],
    };
  }
}
