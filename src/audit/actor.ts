import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../domain/principal';
import type { ActorType } from './audit-log.entity';

/** Who did an admin action, and from where: what an audit row records about its author. */
export interface Actor {
  actorType: ActorType;
  actorKeyId: string | null;
  ip: string | null;
  requestId: string | null;
}

export function actorOf(p: Principal | undefined, ip: string | null, requestId: string | null): Actor {
  if (p?.type === 'key') return { actorType: 'admin_key', actorKeyId: p.keyId, ip, requestId };
  if (p?.type === 'admin_token') return { actorType: 'admin_token', actorKeyId: null, ip, requestId };
  return { actorType: 'cli', actorKeyId: null, ip, requestId };
}

export const CLI_ACTOR: Actor = { actorType: 'cli', actorKeyId: null, ip: null, requestId: null };

/** The request's actor (after ApiKeyGuard). */
export const CurrentActor = createParamDecorator((_: unknown, ctx: ExecutionContext): Actor => {
  const req = ctx.switchToHttp().getRequest<FastifyRequest>();
  return actorOf(req.principal, req.ip, req.id);
});
