import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig, ConfigModule } from '../config';
import { DatabaseModule } from '../database/database.module';
import { HealthModule } from '../health/health.module';
import { MetricsEndpointModule, MetricsModule } from '../metrics/metrics.module';
import { ENTITIES } from './entities';

/**
 * What every role shares: config, PostgreSQL, metrics and health. Config is the one global
 * module: a value built before Nest starts, needed everywhere, and different per app instance
 * in tests. Everything else is imported by the modules that use it.
 */
@Module({})
export class CoreModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: CoreModule,
      imports: [ConfigModule.forRoot(config), DatabaseModule.forRoot(ENTITIES), MetricsModule, MetricsEndpointModule.forRoot(config), HealthModule],
    };
  }
}
