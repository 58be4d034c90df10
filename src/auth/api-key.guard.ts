import { CanActivate, ExecutionContext, ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { AppConfig } from '../config';
import type { KeyKind } from '../domain/key-format';
import { secretsEqual } from '../domain/key-format';
import { BOOTSTRAP_KEY, KINDS_KEY } from './auth.decorators';
import { CredentialsService } from './credentials.service';
import { basicUser } from './write-key.guard';
import { canReadSource } from '../domain/principal';

/** `Authorization: Bearer <key>` (or the key as Basic user name). */
export function extractBearer(req: FastifyRequest): string | null {
  const auth = req.headers.authorization;
  if (!auth) return null;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(auth);
  return bearer ? bearer[1] : basicUser(auth);
}

/**
 * Admin and query routes: 401 without a valid credential, 403 when the key's kind or source
 * scope does not allow the route. A `:sourceId` route parameter is checked against read keys'
 * scope.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly credentials: CredentialsService,
    private readonly config: AppConfig,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    const kinds = this.reflector.getAllAndOverride<KeyKind[]>(KINDS_KEY, [ctx.getHandler(), ctx.getClass()]) ?? ['admin'];
    const bootstrap = this.reflector.getAllAndOverride<boolean>(BOOTSTRAP_KEY, [ctx.getHandler(), ctx.getClass()]) ?? false;
    const presented = extractBearer(req);
    if (!presented) throw new UnauthorizedException(`Send a key as "Authorization: Bearer <key>" (${kinds.join(' or ')} key).`);

    const adminToken = this.config.admin.token;
    if (!presented.startsWith('sk_') && adminToken && secretsEqual(presented, adminToken)) {
      if (!bootstrap) throw new ForbiddenException('ADMIN_TOKEN only bootstraps: use it to create an admin key (POST /v1/admin/keys), then use that key.');
      req.principal = { type: 'admin_token' };
      return true;
    }
    const key = await this.credentials.verify(presented, req.ip);
    if (!key) throw new UnauthorizedException('Unknown, revoked or expired key.');
    req.principal = key;
    if (!kinds.includes(key.kind)) {
      throw new ForbiddenException(`A ${key.kind} key cannot call this route; it needs a ${kinds.join(' or ')} key.`);
    }
    const sourceId = (req.params as Record<string, string> | undefined)?.sourceId;
    if (sourceId && !canReadSource(key, sourceId)) throw new ForbiddenException('This key is not scoped to that source.');
    return true;
  }
}
