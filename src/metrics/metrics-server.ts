import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { createServer, Server } from 'node:http';
import { collectDefaultMetrics, register } from 'prom-client';
import { AppConfig } from '../config';
import { renderMetrics } from './exposition';

/** `/metrics` on METRICS_PORT (and nothing else there). */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MetricsServer.name);
  private server?: Server;

  constructor(private readonly config: AppConfig) {}

  async onApplicationBootstrap(): Promise<void> {
    // The same process metrics PrometheusModule would collect (once per process).
    if (!register.getSingleMetric('process_cpu_user_seconds_total')) collectDefaultMetrics();
    this.server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ success: false, statusCode: 404, message: 'Only GET /metrics is served on this port.' }));
        return;
      }
      renderMetrics(req.headers.accept).then(
        (out) => res.writeHead(200, { 'Content-Type': out.contentType }).end(out.body),
        (err: Error) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`metrics collection failed: ${err.message}`),
      );
    });
    const port = this.config.metricsPort!;
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, this.config.http.host, () => resolve());
    });
    this.logger.log(`metrics on http://${this.config.http.host}:${port}/metrics`);
  }

  async onApplicationShutdown(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
