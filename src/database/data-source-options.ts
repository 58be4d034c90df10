import { DataSourceOptions } from 'typeorm';
import { AppConfig } from '../config';
import { ApiKeyEntity } from '../sources/api-key.entity';
import { SourceEntity } from '../sources/source.entity';
import { DeadLetterEntity } from '../processing/dead-letter.entity';
import { Initial1764100000000 } from './migrations/1764100000000-Initial';
import { AccessControl1764200000000 } from './migrations/1764200000000-AccessControl';
import { AuditLogEntity } from '../audit/audit-log.entity';

export const ENTITIES = [SourceEntity, ApiKeyEntity, DeadLetterEntity, AuditLogEntity];
export const MIGRATIONS = [Initial1764100000000, AccessControl1764200000000];

/** One definition for the app's connection and the TypeORM CLI's. */
export function dataSourceOptions(config: AppConfig, overrides: Partial<{ poolSize: number; applicationName: string }> = {}): DataSourceOptions {
  return {
    type: 'postgres',
    url: config.database.url,
    ssl: config.database.ssl ? { rejectUnauthorized: false } : false,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    // Failures are logged by the callers, without TypeORM echoing whole event payloads.
    logging: false,
    extra: {
      max: overrides.poolSize ?? config.database.poolSize,
      application_name: overrides.applicationName ?? `sluice-${config.role}`,
      // Fail fast (and let health report it) instead of queueing forever on a dead server.
      connectionTimeoutMillis: 5000,
    },
  };
}
