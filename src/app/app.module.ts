import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig } from '../config';
import { ApiModule } from './api.module';
import { CoreModule } from './core.module';
import { WorkerModule } from './worker.module';

/** The roles differ only in the modules imported here. */
@Module({})
export class AppModule {
  static forRole(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [CoreModule.forRoot(config), ...(config.servesApi ? [ApiModule] : []), ...(config.runsWorker ? [WorkerModule] : [])],
    };
  }
}
