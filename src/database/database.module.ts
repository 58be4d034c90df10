import { DynamicModule, Injectable, Logger, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectDataSource, TypeOrmModule } from '@nestjs/typeorm';
import type { DataSourceOptions } from 'typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config';
import { dataSourceOptions } from './data-source-options';

/**
 * Connects the DataSource in the background, retrying until PostgreSQL answers, so a process
 * (re)started during a database outage comes up anyway: liveness passes, readiness reports the
 * database down, the worker holds its jobs, the api serves what needs no database.
 */
@Injectable()
export class DatabaseConnector implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(DatabaseConnector.name);
  private stopped = false;
  private connecting?: Promise<void>;
  private lastError: unknown = null;

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async onModuleInit(): Promise<void> {
    // The first attempt is awaited (the usual case: start-up with the database up).
    try {
      await this.db.initialize();
    } catch (err) {
      this.lastError = err;
      this.logger.warn(`PostgreSQL not reachable at start (${(err as Error).message}); retrying in the background`);
      this.connecting = this.retry();
    }
  }

  /** For one-shot commands (the CLI): the connection error itself when not connected. */
  assertConnected(): void {
    if (!this.db.isInitialized) throw this.lastError ?? new Error('PostgreSQL is not connected');
  }

  private async retry(): Promise<void> {
    for (let delay = 500; !this.stopped && !this.db.isInitialized; delay = Math.min(delay * 2, 5000)) {
      await new Promise((r) => setTimeout(r, delay).unref());
      if (this.stopped) return;
      try {
        await this.db.initialize();
        this.logger.log('connected to PostgreSQL');
      } catch (err) {
        this.lastError = err;
        this.logger.debug(`PostgreSQL still not reachable: ${(err as Error).message}`);
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.connecting;
  }
}

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
            retryAttempts: 0,
            manualInitialization: true,
          }),
        }),
      ],
      providers: [DatabaseConnector],
    };
  }
}
