import { Module } from '@nestjs/common';
import { IngestModule } from '../ingest/ingest.module';
import { SourcesModule } from '../sources/sources.module';

/** ROLE=api: HTTP ingestion and the admin API (the queue producer comes from CoreModule). */
@Module({ imports: [IngestModule, SourcesModule] })
export class ApiModule {}
