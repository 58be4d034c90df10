import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
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
  @ApiOperation({ summary: 'Readiness: PostgreSQL and Redis are reachable (503 otherwise); also reports the queue backlog' })
  async ready() {
    const result = await this.health.check([
      () => this.db.pingCheck('postgres', { timeout: 1500 }),
      () => this.redis.pingCheck('redis', 1000),
    ]);
    const backlog = await this.backlog.check('backlog');
    // Reported, not failed on: a weaker Redis is an operator's warning, not a reason to stop serving.
    const redisDurability = { redisDurability: { status: 'up' as const, ...this.durability.current } };
    return { ...result, info: { ...result.info, ...backlog, ...redisDurability }, details: { ...result.details, ...backlog, ...redisDurability } };
  }
}
