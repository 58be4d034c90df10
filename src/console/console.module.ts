import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { RateLimitModule } from '../ratelimit/rate-limit.module';
import { SourcesModule } from '../sources/sources.module';
import { MeController } from './me.controller';
import { MeService } from './me.service';

/** The console's one route of its own (`GET /v1/me`); its files are served by src/app/http/console.ts. */
@Module({ imports: [AuthModule, RateLimitModule, SourcesModule], controllers: [MeController], providers: [MeService] })
export class ConsoleModule {}
