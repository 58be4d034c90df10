import type { KeyKind } from './key-format';

export interface SourceLimits {
  rps: number | null;
  eps: number | null;
  dailyQuota: number | null;
  /** The source keeps its events this many days (below RETENTION_DAYS); null: the global retention. */
  retentionDays: number | null;
}

/** Who is calling: a verified key, the bootstrap ADMIN_TOKEN, or the operator CLI. */
export type Principal =
  | { type: 'key'; id: string; keyId: string; kind: KeyKind; sourceId: string | null; sourceIds: string[] | null; limits: SourceLimits }
  | { type: 'admin_token' }
  | { type: 'cli' };

export type KeyPrincipal = Extract<Principal, { type: 'key' }>;

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** May this principal read this source's data? */
export function canReadSource(p: Principal, sourceId: string): boolean {
  if (p.type !== 'key') return p.type === 'cli';
  if (p.kind === 'admin') return true;
  return p.kind === 'read' && (p.sourceIds === null || p.sourceIds.includes(sourceId));
}
