import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { PlanRules } from './plan-rules';

export type PlanAction = 'allow' | 'flag' | 'quarantine' | 'drop';

export interface PlanRow {
  id: string;
  name: string;
  description: string | null;
  created_at: Date;
  updated_at: Date;
  latest_version: number;
  sources: string[];
}

export interface VersionRow {
  plan_id: string;
  version: number;
  rules: PlanRules;
  created_at: Date;
  created_by: string | null;
}

export interface AttachmentRow {
  source_id: string;
  plan_id: string;
  version: number | null;
  on_unplanned: PlanAction;
  on_violation: PlanAction;
  updated_at: Date;
}

/** What every api holds in memory: each source's plan version in force, with its rules. */
export interface ActivePlanRow {
  source_id: string;
  plan_id: string;
  version: number;
  on_unplanned: PlanAction;
  on_violation: PlanAction;
  rules: PlanRules;
}

const PLAN_SELECT = `
SELECT p.*, (SELECT max(version) FROM tracking_plan_versions v WHERE v.plan_id = p.id)::int AS latest_version,
       coalesce((SELECT array_agg(a.source_id ORDER BY a.source_id) FROM source_tracking_plans a WHERE a.plan_id = p.id), '{}') AS sources
  FROM tracking_plans p`;

@Injectable()
export class TrackingPlansRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  transaction<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  /** Every change bumps the generation in its own transaction: the apis reload when it moves. */
  async bump(m: EntityManager): Promise<void> {
    await m.query(`UPDATE tracking_plan_generation SET n = n + 1 WHERE id = 1`);
  }

  async generation(): Promise<string> {
    const rows: { n: string }[] = await this.db.query(`SELECT n FROM tracking_plan_generation WHERE id = 1`);
    return rows[0]?.n ?? '0';
  }

  async createPlan(m: EntityManager, name: string, description: string | null): Promise<string> {
    const rows: { id: string }[] = await m.query(`INSERT INTO tracking_plans (name, description) VALUES ($1, $2) RETURNING id`, [name, description]);
    return rows[0].id;
  }

  /** Adds the next version (the plan row locked, so two concurrent additions get 2 and 3). */
  async addVersion(m: EntityManager, planId: string, rules: PlanRules, createdBy: string | null): Promise<number | null> {
    const locked: unknown[] = await m.query(`SELECT 1 FROM tracking_plans WHERE id = $1 FOR UPDATE`, [planId]);
    if (locked.length === 0) return null;
    const rows: { version: number }[] = await m.query(
      `INSERT INTO tracking_plan_versions (plan_id, version, rules, created_by)
       SELECT $1, coalesce(max(version), 0) + 1, $2::jsonb, $3 FROM tracking_plan_versions WHERE plan_id = $1
       RETURNING version`,
      [planId, JSON.stringify(rules), createdBy],
    );
    await m.query(`UPDATE tracking_plans SET updated_at = now() WHERE id = $1`, [planId]);
    return rows[0].version;
  }

  list(): Promise<PlanRow[]> {
    return this.db.query(`${PLAN_SELECT} ORDER BY p.created_at DESC LIMIT 1000`);
  }

  async get(id: string, m: EntityManager = this.db.manager): Promise<PlanRow | null> {
    const rows: PlanRow[] = await m.query(`${PLAN_SELECT} WHERE p.id = $1`, [id]);
    return rows[0] ?? null;
  }

  versions(planId: string): Promise<VersionRow[]> {
    return this.db.query(`SELECT * FROM tracking_plan_versions WHERE plan_id = $1 ORDER BY version DESC`, [planId]);
  }

  async version(planId: string, version: number | null, m: EntityManager = this.db.manager): Promise<VersionRow | null> {
    const rows: VersionRow[] = await m.query(
      `SELECT * FROM tracking_plan_versions WHERE plan_id = $1 AND ($2::int IS NULL OR version = $2) ORDER BY version DESC LIMIT 1`,
      [planId, version],
    );
    return rows[0] ?? null;
  }

  async rename(m: EntityManager, id: string, patch: { name?: string; description?: string | null }): Promise<void> {
    await m.query(
      `UPDATE tracking_plans SET name = coalesce($2, name), description = CASE WHEN $3::boolean THEN $4 ELSE description END, updated_at = now() WHERE id = $1`,
      [id, patch.name ?? null, patch.description !== undefined, patch.description ?? null],
    );
  }

  async deletePlan(m: EntityManager, id: string): Promise<boolean> {
    const [, n] = (await m.query(`DELETE FROM tracking_plans WHERE id = $1`, [id])) as [unknown, number];
    return n > 0;
  }

  async attachment(sourceId: string, m: EntityManager = this.db.manager): Promise<AttachmentRow | null> {
    const rows: AttachmentRow[] = await m.query(`SELECT * FROM source_tracking_plans WHERE source_id = $1`, [sourceId]);
    return rows[0] ?? null;
  }

  async attach(m: EntityManager, a: Omit<AttachmentRow, 'updated_at'>): Promise<AttachmentRow> {
    const rows: AttachmentRow[] = await m.query(
      `INSERT INTO source_tracking_plans (source_id, plan_id, version, on_unplanned, on_violation) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (source_id) DO UPDATE SET plan_id = excluded.plan_id, version = excluded.version,
         on_unplanned = excluded.on_unplanned, on_violation = excluded.on_violation, updated_at = now()
       RETURNING *`,
      [a.source_id, a.plan_id, a.version, a.on_unplanned, a.on_violation],
    );
    return rows[0];
  }

  async detach(m: EntityManager, sourceId: string): Promise<boolean> {
    const [, n] = (await m.query(`DELETE FROM source_tracking_plans WHERE source_id = $1`, [sourceId])) as [unknown, number];
    return n > 0;
  }

  /** What the source's stored events in a range look like, under the query statement timeout. */
  observe(sourceId: string, from: Date, to: Date, timeoutMs: number): Promise<{ type: string; event: string; total: number; keys: { key: string; t: string; n: number }[] }[]> {
    return this.db.transaction(async (m) => {
      await m.query(`SET TRANSACTION READ ONLY`);
      await m.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.round(timeoutMs))}`);
      return m.query(OBSERVED_SQL, [sourceId, from, to]);
    });
  }

  /** Each source's plan version in force (the pinned one, or the latest), with its rules. */
  active(): Promise<ActivePlanRow[]> {
    return this.db.query(`
      SELECT a.source_id, a.plan_id, v.version, a.on_unplanned, a.on_violation, v.rules
        FROM source_tracking_plans a
        JOIN LATERAL (SELECT version, rules FROM tracking_plan_versions
                       WHERE plan_id = a.plan_id AND (a.version IS NULL OR version = a.version)
                       ORDER BY version DESC LIMIT 1) v ON true`);
  }
}

/** Per (type, event name), how often each top-level key of properties (traits for identify and group) had each JSON type. */
export const OBSERVED_SQL = `
WITH ev AS (
  SELECT type, coalesce(event, '') AS event, CASE WHEN type IN ('identify', 'group') THEN traits ELSE properties END AS body
    FROM events WHERE source_id = $1 AND "timestamp" >= $2 AND "timestamp" < $3
), totals AS (
  SELECT type, event, count(*)::int AS n FROM ev GROUP BY 1, 2
), keys AS (
  SELECT type, event, k.key, jsonb_typeof(k.value) AS t, count(*)::int AS n
    FROM ev, jsonb_each(CASE WHEN jsonb_typeof(body) = 'object' THEN body ELSE '{}'::jsonb END) AS k
   GROUP BY 1, 2, 3, 4
)
SELECT t.type, t.event, t.n AS total,
       coalesce(json_agg(json_build_object('key', k.key, 't', k.t, 'n', k.n) ORDER BY k.key, k.t) FILTER (WHERE k.key IS NOT NULL), '[]') AS keys
  FROM totals t LEFT JOIN keys k ON k.type = t.type AND k.event = t.event
 GROUP BY 1, 2, 3 ORDER BY 3 DESC, 1, 2 LIMIT 2000`;
