import { MigrationInterface, QueryRunner } from 'typeorm';

export class TrackingPlans1765000000000 implements MigrationInterface {
  name = 'TrackingPlans1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tracking_plans (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        description text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Versions are immutable: a change is a new version, so what validated an event stays known.
    await q.query(`
      CREATE TABLE tracking_plan_versions (
        plan_id uuid NOT NULL REFERENCES tracking_plans (id) ON DELETE CASCADE,
        version integer NOT NULL CHECK (version >= 1),
        rules jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        created_by text,
        PRIMARY KEY (plan_id, version)
      )`);
    // A source follows one plan: a pinned version, or (NULL) always the latest.
    await q.query(`
      CREATE TABLE source_tracking_plans (
        source_id uuid PRIMARY KEY REFERENCES sources (id) ON DELETE CASCADE,
        plan_id uuid NOT NULL REFERENCES tracking_plans (id),
        version integer,
        on_unplanned text NOT NULL CHECK (on_unplanned IN ('allow', 'flag', 'quarantine', 'drop')),
        on_violation text NOT NULL CHECK (on_violation IN ('allow', 'flag', 'quarantine', 'drop')),
        updated_at timestamptz NOT NULL DEFAULT now(),
        FOREIGN KEY (plan_id, version) REFERENCES tracking_plan_versions (plan_id, version)
      )`);
    await q.query(`CREATE INDEX source_tracking_plans_plan_idx ON source_tracking_plans (plan_id)`);
    // Bumped in the transaction of every change: the api reloads when it moves (pub/sub tells it
    // at once; a poll catches a lost message).
    await q.query(`CREATE TABLE tracking_plan_generation (id integer PRIMARY KEY CHECK (id = 1), n bigint NOT NULL)`);
    await q.query(`INSERT INTO tracking_plan_generation VALUES (1, 0)`);
    // Violations seen by the api, per source, hour, event and violation, with one sample event.
    await q.query(`
      CREATE TABLE violation_counts_hourly (
        source_id uuid NOT NULL,
        hour timestamptz NOT NULL,
        event_type text NOT NULL,
        event text NOT NULL,
        violation text NOT NULL,
        keyword text NOT NULL,
        instance_path text NOT NULL,
        action text NOT NULL,
        n bigint NOT NULL,
        message text NOT NULL,
        sample jsonb,
        PRIMARY KEY (source_id, hour, event_type, event, violation, keyword, instance_path, action)
      )`);
    // An event stored in flag mode carries its violations.
    await q.query(`ALTER TABLE events ADD COLUMN violations jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE events DROP COLUMN IF EXISTS violations`);
    await q.query(`DROP TABLE IF EXISTS violation_counts_hourly`);
    await q.query(`DROP TABLE IF EXISTS tracking_plan_generation`);
    await q.query(`DROP TABLE IF EXISTS source_tracking_plans`);
    await q.query(`DROP TABLE IF EXISTS tracking_plan_versions`);
    await q.query(`DROP TABLE IF EXISTS tracking_plans`);
  }
}
