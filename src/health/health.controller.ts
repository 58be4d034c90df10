import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { BacklogHealthIndicator } from './backlog.health';
import { RedisHealthIndicator } from './redis.health';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly redis: RedisHealthIndicator,
    private readonly backlog: BacklogHealthIndicator,
  ) {}

  /** Liveness: the process answers. Never depends on PostgreSQL or Redis, so an outage of
   * either does not make Kubernetes restart every pod. */
  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: the process is up' })
  live() {
    return this.health.check([]);
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
    return { ...result, info: { ...result.info, ...backlog }, details: { ...result.details, ...backlog } };
  }
}
