import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { ConsoleModule } from '../console/console.module';
import { DeadLettersModule } from '../deadletters/dead-letters.module';
import { PrivacyModule } from '../privacy/privacy.module';
import { IngestModule } from '../ingest/ingest.module';
import { LiveModule } from '../live/live.module';
import { QueryModule } from '../query/query.module';
import { SdkSettingsModule } from '../sdk-settings/sdk-settings.module';
import { SourcesModule } from '../sources/sources.module';

/** ROLE=api: HTTP ingestion, the browser SDKs' settings, the query API, the live debugger, the console's `GET /v1/me` and the admin API (dead letters included) (the queue producer is in CoreModule). */
@Module({ imports: [IngestModule, ConsoleModule, SdkSettingsModule, LiveModule, QueryModule, SourcesModule, AuditModule, DeadLettersModule, PrivacyModule] })
export class ApiModule {}
