import { Controller, DynamicModule, Get, Headers, Module, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces } from '@nestjs/swagger';
import { PrometheusController, PrometheusModule } from '@willsoto/nestjs-prometheus';
import type { FastifyReply } from 'fastify';
import { register } from 'prom-client';
import { AppConfig } from '../config';
import { renderMetrics } from './exposition';
import { MetricsServer } from './metrics-server';
import { MetricsService } from './metrics.service';

/** Every Sluice metric (MetricsService); imported by whatever records one. */
@Module({ providers: [MetricsService], exports: [MetricsService] })
export class MetricsModule {}

/** `/metrics` on the HTTP port, in the format the scraper asks for (OpenMetrics carries exemplars). */
@Controller()
export class MetricsController extends PrometheusController {
  @Get()
  @ApiOperation({ summary: 'Prometheus metrics: OpenMetrics (with exemplars) when Accept asks for it, else the text format 0.0.4' })
  @ApiProduces('text/plain', 'application/openmetrics-text')
  override async index(@Res({ passthrough: true }) response: FastifyReply, @Headers('accept') accept?: string): Promise<string> {
    const out = await renderMetrics(accept);
    void response.header('Content-Type', out.contentType);
    return out.body;
  }
}

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
      return { module: MetricsEndpointModule, imports: [PrometheusModule.register({ path: '/metrics', defaultMetrics, controller: MetricsController })] };
    }
    return { module: MetricsEndpointModule, providers: [MetricsServer] };
  }
}
