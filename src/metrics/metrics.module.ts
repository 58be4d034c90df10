import { DynamicModule, Module } from '@nestjs/common';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { register } from 'prom-client';
import { AppConfig } from '../config';
import { MetricsServer } from './metrics-server';
import { MetricsService } from './metrics.service';

/** Every Sluice metric (MetricsService); imported by whatever records one. */
@Module({ providers: [MetricsService], exports: [MetricsService] })
export class MetricsModule {}

/**
 * Where Prometheus scrapes: `/metrics` on the HTTP port, or, with METRICS_PORT, on a listener of
 * its own that the ingress never exposes (the chart points Prometheus there).
 */
@Module({})
export class MetricsEndpointModule {
  static forRoot(config: AppConfig): DynamicModule {
    if (config.metricsPort === null) {
      // Process metrics are collected once per process (tests start several apps in one).
      const defaultMetrics = { enabled: !register.getSingleMetric('process_cpu_user_seconds_total') };
      return { module: MetricsEndpointModule, imports: [PrometheusModule.register({ path: '/metrics', defaultMetrics })] };
    }
    return { module: MetricsEndpointModule, providers: [MetricsServer] };
  }
}
