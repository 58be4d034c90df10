import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorFunction, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { AppConfig } from '../config';
import { RedisDurabilityService } from '../queue/redis-durability.service';
import { BacklogHealthIndicator } from './backlog.health';
import { ProcessHealth } from './process-health';
import { RedisHealthIndicator } from './redis.health';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly redis: RedisHealthIndicator,
    private readonly backlog: BacklogHealthIndicator,
    private readonly process: ProcessHealth,
    private readonly durability: RedisDurabilityService,
    private readonly indicators: HealthIndicatorService,
    private readonly config: AppConfig,
  ) {}

  /** Liveness: the process answers and nothing in it failed for good (a stopped consumer).
   * Never depends on PostgreSQL or Redis, so an outage of either does not make Kubernetes
   * restart every pod. */
  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: the process is up' })
  live() {
    const failed = this.process.failed;
    return this.health.check(Object.entries(failed).map(([component, reason]) => () => this.indicators.check(component).down({ reason })));
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    summary: 'Readiness: Redis reachable, and PostgreSQL for a worker (503 otherwise); also reports the queue backlog and Redis durability',
    description: "An api keeps accepting events through a PostgreSQL outage (keys are cached, events wait in Redis), so for ROLE=api PostgreSQL is reported here but does not fail readiness: Kubernetes keeps sending it traffic.",
  })
  async ready() {
    const postgres = () => this.db.pingCheck('postgres', { timeout: 1500 });
    const redis = () => this.redis.pingCheck('redis', 1000);
    let postgresInfo = {};
    const checks: HealthIndicatorFunction[] = this.config.runsWorker ? [postgres, redis] : [redis];
    if (!this.config.runsWorker) postgresInfo = await postgres().catch((err: { causes?: object }) => err.causes ?? { postgres: { status: 'down' } });
    const result = await this.health.check(checks);
    const backlog = await this.backlog.check('backlog');
    // Reported, not failed on: a weaker Redis is an operator's warning, not a reason to stop serving.
    const redisDurability = { redisDurability: { status: 'up' as const, ...this.durability.current } };
    const extra = { ...postgresInfo, ...backlog, ...redisDurability };
    return { ...result, info: { ...result.info, ...extra }, details: { ...result.details, ...extra } };
  }
}
