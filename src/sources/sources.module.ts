import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { SourcesController } from './sources.controller';
import { SourcesRepository } from './sources.repository';
import { SourcesService } from './sources.service';

@Module({
  imports: [AuthModule],
  controllers: [SourcesController],
  providers: [SourcesRepository, SourcesService],
})
export class SourcesModule {}
