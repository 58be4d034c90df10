import { CanActivate, ExecutionContext, ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CredentialsService } from './credentials.service';

/** The user name of an HTTP Basic `Authorization` header (where Segment SDKs put the key). */
export function basicUser(auth: string | undefined): string | null {
  if (!auth || !/^Basic\s+/i.test(auth)) return null;
  return Buffer.from(auth.replace(/^Basic\s+/i, ''), 'base64').toString('utf8').split(':')[0] || null;
}

/** Segment's three ways to present a write key, in the order SDKs use them. */
export function extractWriteKey(req: FastifyRequest): string | null {
  const user = basicUser(req.headers.authorization);
  if (user) return user;
  const header = req.headers['x-write-key'];
  if (typeof header === 'string' && header) return header;
  const body = req.body as { writeKey?: unknown } | undefined;
  if (body && typeof body === 'object' && typeof body.writeKey === 'string' && body.writeKey) return body.writeKey;
  return null;
}

@Injectable()
export class WriteKeyGuard implements CanActivate {
  constructor(private readonly credentials: CredentialsService) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    const key = extractWriteKey(req);
    if (!key) {
      throw new UnauthorizedException('Missing write key: send it as the HTTP Basic user name, the X-Write-Key header, or "writeKey" in the body.');
    }
    const verified = await this.credentials.verify(key, req.ip);
    if (!verified) throw new UnauthorizedException('Unknown, revoked or expired write key.');
    if (verified.kind !== 'write' || !verified.sourceId) {
      throw new ForbiddenException(`A ${verified.kind} key cannot send events; use the source's write key.`);
    }
    req.principal = verified;
    return true;
  }
}
