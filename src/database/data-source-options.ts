import { DataSourceOptions } from 'typeorm';
import { AppConfig } from '../config';
import { Initial1764100000000 } from './migrations/1764100000000-Initial';
import { AccessControl1764200000000 } from './migrations/1764200000000-AccessControl';
import { Hardening1764300000000 } from './migrations/1764300000000-Hardening';
import { QueryApi1764400000000 } from './migrations/1764400000000-QueryApi';
import { QueryIndexes1764500000000 } from './migrations/1764500000000-QueryIndexes';
import { DeadLetterLifecycle1764600000000 } from './migrations/1764600000000-DeadLetterLifecycle';
import { Suppressions1764700000000 } from './migrations/1764700000000-Suppressions';
import { PrivacyDeletions1764800000000 } from './migrations/1764800000000-PrivacyDeletions';
import { Retention1764900000000 } from './migrations/1764900000000-Retention';
import { TrackingPlans1765000000000 } from './migrations/1765000000000-TrackingPlans';

export const MIGRATIONS = [Initial1764100000000, AccessControl1764200000000, Hardening1764300000000, QueryApi1764400000000, QueryIndexes1764500000000, DeadLetterLifecycle1764600000000, Suppressions1764700000000, PrivacyDeletions1764800000000, Retention1764900000000, TrackingPlans1765000000000];

/** node-postgres TLS options: verified unless DATABASE_SSL=no-verify says otherwise. */
export function pgSsl(config: AppConfig): false | { rejectUnauthorized: boolean; ca?: string } {
  const ssl = config.database.ssl;
  if (!ssl) return false;
  return ssl.ca ? { rejectUnauthorized: ssl.verify, ca: ssl.ca } : { rejectUnauthorized: ssl.verify };
}

export interface DataSourceOverrides {
  /** The TypeORM entities (features own them; the app lists them in src/app/entities.ts). */
  entities: NonNullable<DataSourceOptions['entities']>;
  poolSize: number;
  applicationName: string;
  /** Another server (a read replica) with the same settings. */
  url: string;
}

/** One definition for the app's connection, the migrator's and the TypeORM CLI's. */
export function dataSourceOptions(config: AppConfig, overrides: Partial<DataSourceOverrides> = {}): DataSourceOptions {
  return {
    type: 'postgres',
    url: overrides.url ?? config.database.url,
    ssl: pgSsl(config),
    entities: overrides.entities ?? [],
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
