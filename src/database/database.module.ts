import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { DataSourceOptions } from 'typeorm';
import { AppConfig } from '../config';
import { dataSourceOptions } from './data-source-options';

@Module({})
export class DatabaseModule {
  /** `entities` come from the composition root: the database layer knows no feature. */
  static forRoot(entities: NonNullable<DataSourceOptions['entities']>): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [AppConfig],
          useFactory: (config: AppConfig) => ({
            ...dataSourceOptions(config, { entities }),
            // Start even when PostgreSQL is down: readiness reports it and the pool reconnects.
            retryAttempts: 0,
            manualInitialization: false,
          }),
        }),
      ],
    };
  }
}
