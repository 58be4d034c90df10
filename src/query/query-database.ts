import { Injectable, Logger, OnModuleDestroy, OnModuleInit, ServiceUnavailableException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config';
import { dataSourceOptions } from '../database/data-source-options';

/**
 * Where the query API's SQL runs: on the read replica when DATABASE_READ_URL is set (writes never
 * come here), else on the primary; in a transaction with QUERY_STATEMENT_TIMEOUT_MS, so a query
 * too heavy for its range is cancelled by PostgreSQL and answered 503 `query_timeout` instead of
 * holding a connection and the request.
 */
@Injectable()
export class QueryDatabase implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(QueryDatabase.name);
  private replica: DataSource | null = null;
  private connecting: Promise<void> | null = null;

  constructor(
    @InjectDataSource() private readonly primary: DataSource,
    private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    const url = this.config.query.readUrl;
    if (!url) return;
    this.replica = new DataSource(dataSourceOptions(this.config, { url, applicationName: `sluice-${this.config.role}-read` }));
    // Like the primary, a replica that is down at start does not stop the api: queries answer
    // 503 until it is reachable (initialize is retried on use).
    await this.db().catch((err: Error) => this.logger.warn(err.message));
  }

  async onModuleDestroy(): Promise<void> {
    if (this.replica?.isInitialized) await this.replica.destroy();
  }

  private async db(): Promise<DataSource> {
    if (!this.replica) return this.primary;
    if (!this.replica.isInitialized) {
      // One attempt at a time, shared by the requests that arrive meanwhile.
      this.connecting ??= this.replica.initialize().then(
        () => undefined,
        (err: Error) => {
          throw new ServiceUnavailableException({ message: `The read replica (DATABASE_READ_URL) is not reachable: ${err.message}`, reason: 'read_replica_unavailable' });
        },
      );
      await this.connecting.finally(() => (this.connecting = null));
    }
    return this.replica;
  }

  /** One statement. */
  read<T>(sql: string, params: unknown[]): Promise<T[]> {
    return this.session((query) => query<T>(sql, params));
  }

  /** Several statements in one read-only transaction (one timeout each, one connection). */
  async session<R>(work: (query: <T>(sql: string, params: unknown[]) => Promise<T[]>) => Promise<R>): Promise<R> {
    const db = await this.db();
    try {
      return await db.transaction('READ COMMITTED', async (m) => {
        await m.query(`SET LOCAL statement_timeout = ${Math.floor(this.config.query.statementTimeoutMs)}`);
        return work(<T>(sql: string, params: unknown[]) => m.query(sql, params) as Promise<T[]>);
      });
    } catch (err) {
      const code = (err as { code?: string; driverError?: { code?: string } }).driverError?.code ?? (err as { code?: string }).code;
      if (code === '57014') {
        throw new ServiceUnavailableException({
          message: `The query ran longer than ${this.config.query.statementTimeoutMs} ms and was stopped: narrow the time range or add filters.`,
          reason: 'query_timeout',
        });
      }
      // A standby cancels a query that holds back replay longer than max_standby_streaming_delay.
      if (code === '40001' && /conflict with recovery/i.test((err as Error).message)) {
        throw new ServiceUnavailableException({ message: 'The read replica cancelled the query to keep up with replication; ask again.', reason: 'replica_conflict' });
      }
      throw err;
    }
  }
}
