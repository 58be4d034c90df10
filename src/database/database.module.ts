import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config';
import { dataSourceOptions } from './data-source-options';

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        ...dataSourceOptions(config),
        // Start even when PostgreSQL is down: readiness reports it and the pool reconnects.
        retryAttempts: 0,
        manualInitialization: false,
      }),
    }),
  ],
})
export class DatabaseModule {}
