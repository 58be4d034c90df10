import { CanActivate, ExecutionContext, Injectable, UnauthorizedException, ServiceUnavailableException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AppConfig } from '../config';
import { secretsEqual } from '../sources/key-format';

/** `Authorization: Bearer <ADMIN_TOKEN>` on /v1/admin/*. */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(private readonly config: AppConfig) {}

  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    const token = this.config.admin.token;
    if (!token) throw new ServiceUnavailableException('The admin API is disabled: set ADMIN_TOKEN to enable it.');
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(header);
    if (!m) throw new UnauthorizedException('Send the admin token as "Authorization: Bearer <ADMIN_TOKEN>".');
    if (!secretsEqual(m[1].trim(), token)) throw new UnauthorizedException('Invalid admin token.');
    return true;
  }
}
