import { Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';

/** Admin and query routes: limited per credential (after ApiKeyGuard), else per client IP. */
@Injectable()
export class ApiThrottlerGuard extends ThrottlerGuard {
  protected override async getTracker(req: Record<string, any>): Promise<string> {
    const r = req as FastifyRequest;
    const p = r.principal;
    return p?.type === 'key' ? `key:${p.keyId}` : `ip:${r.ip}`;
  }
}
