import { Module, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { LifecycleModule } from './lifecycle.module';
import { RetentionScheduler } from './retention.scheduler';

/** The worker's part of the data lifecycle: retention on its schedule. */
@Module({ imports: [LifecycleModule] })
export class LifecycleWorkerModule implements OnApplicationBootstrap, OnModuleDestroy {
  constructor(private readonly scheduler: RetentionScheduler) {}

  onApplicationBootstrap(): void {
    this.scheduler.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.scheduler.stop();
  }
}
