import type { AppConfig } from '../config';
import { markTracingOn } from './trace-context';

export interface Tracing {
  /** Sends the spans still buffered and stops (graceful shutdown); resolves within `timeoutMs`. */
  shutdown(timeoutMs?: number): Promise<void>;
}

/**
 * Starts OpenTelemetry when config.tracing says so. main.ts calls it before it loads Nest, the
 * app, pg and ioredis, so the instrumentations patch those modules as they load. Off (the
 * default), the SDK is never loaded: the spans of trace-context.ts are the API's no-ops.
 */
export function startTracing(config: AppConfig): Tracing | null {
  if (!config.tracing) return null;
  // Required here, not imported above, so that a process with tracing off never loads the SDK.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startSdk } = require('./sdk') as typeof import('./sdk');
  const stop = startSdk(config.tracing, config.role);
  markTracingOn({ followParent: config.tracing.sampler.startsWith('parentbased_') });
  return {
    shutdown: (timeoutMs = 5000) => {
      let timer: NodeJS.Timeout | undefined;
      return Promise.race([
        stop().catch(() => undefined),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
          timer.unref();
        }),
      ]).finally(() => clearTimeout(timer));
    },
  };
}
