import type { DataSource, EntityManager } from 'typeorm';

/** Runs a statement and returns the rows it affected (DataSource#query returns only rows). */
export async function execute(db: DataSource | EntityManager, sql: string, params: unknown[] = []): Promise<number> {
  const runner = 'createQueryRunner' in db ? db.createQueryRunner() : db.queryRunner ?? db.connection.createQueryRunner();
  const own = !('queryRunner' in db && db.queryRunner === runner);
  try {
    const result = await runner.query(sql, params, true);
    return result.affected ?? 0;
  } finally {
    if (own) await runner.release();
  }
}
