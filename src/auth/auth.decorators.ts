import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { KeyKind } from '../domain/key-format';
import type { Principal } from '../domain/principal';

export const KINDS_KEY = 'sluice:key-kinds';
export const BOOTSTRAP_KEY = 'sluice:bootstrap-token';

/** Key kinds allowed on a route or controller (checked by ApiKeyGuard). */
export const RequireKeyKind = (...kinds: KeyKind[]) => SetMetadata(KINDS_KEY, kinds);

/** The route also accepts the bootstrap ADMIN_TOKEN (only creating admin keys does). */
export const AllowBootstrapToken = () => SetMetadata(BOOTSTRAP_KEY, true);

/** The authenticated principal of the request. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  return ctx.switchToHttp().getRequest<FastifyRequest>().principal!;
});
