import { Injectable, Logger } from '@nestjs/common';

/**
 * Failures a process cannot recover from by itself (its queue consumer stopped): liveness then
 * answers 503 and main.ts exits non-zero, so Kubernetes restarts the pod instead of leaving a
 * worker that looks healthy and does nothing.
 */
@Injectable()
export class ProcessHealth {
  private readonly logger = new Logger(ProcessHealth.name);
  private readonly failures = new Map<string, string>();
  private readonly listeners = new Set<(component: string, reason: string) => void>();

  fail(component: string, reason: string): void {
    this.logger.error(`${component} failed: ${reason}; the process will exit`);
    this.failures.set(component, reason);
    this.listeners.forEach((l) => l(component, reason));
  }

  get failed(): Record<string, string> {
    return Object.fromEntries(this.failures);
  }

  onFatal(listener: (component: string, reason: string) => void): void {
    this.listeners.add(listener);
  }
}
