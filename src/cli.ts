// Operator CLI: `npm run cli -- <verb> [options]` (in the image: `node dist/cli.js <verb>`).
// Works on the database directly, without the HTTP API: for bootstrapping a cluster and for
// recovering when no admin key is left. Every change is audited with actor "cli".
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { parseArgs } from 'node:util';
import { CLI_ACTOR } from './audit/actor';
import { CoreModule } from './app/core.module';
import { describeStartupError } from './common/startup-errors';
import { DatabaseConnector } from './database/database.module';
import { AppConfig, loadConfig } from './config';
import type { KeyKind } from './domain/key-format';
import { KeysService } from './sources/keys.service';
import { SourcesModule } from './sources/sources.module';
import { SourcesService } from './sources/sources.service';
import { RollupsModule } from './query/rollups.module';
import { DeadLettersModule } from './deadletters/dead-letters.module';
import { DeadLettersService } from './deadletters/dead-letters.service';
import { DeadLetterStoreRepository } from './deadletters/dead-letter-store.repository';
import { IngestService } from './ingest/ingest.service';
import { SuppressionsService } from './privacy/suppressions.service';
import { ExportService } from './privacy/export.service';
import { deletionView } from './privacy/deletions.controller';
import { DeletionsService } from './privacy/deletions.service';
import { PrivacyModule } from './privacy/privacy.module';
import { RollupsRepository } from './query/rollups.repository';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { readFileSync } from 'node:fs';
import { attachmentView, planView, versionView } from './tracking-plans/tracking-plans.controller';
import { TrackingPlansModule } from './tracking-plans/tracking-plans.module';
import { TrackingPlansService } from './tracking-plans/tracking-plans.service';
import { RETENTION_JOB, RetentionScheduler } from './lifecycle/retention.scheduler';
import { ScheduledRunsRepository } from './lifecycle/scheduled-runs.repository';

const USAGE = `Usage: npm run cli -- <verb> [options]

  keys:create --kind admin|read|write [--source <id>] [--sources <id,id>] [--name <name>]
  keys:list   [--kind <kind>] [--source <id>] [--all]
  keys:revoke <key id>
  keys:rotate <key id> [--overlap <seconds>]      (default overlap 3600)
  sources:create <name>
  sources:list
  sources:delete <source id>
  sources:retention <source id> <days|none>      (keep fewer days than RETENTION_DAYS; none: the global)
  dead-letters:list [--source <id>] [--reason <code>] [--status pending|replayed|discarded] [--limit <n>]
  dead-letters:show <id>                          (the original payload, byte for byte)
  dead-letters:replay <id> [<id> ...]             (back through ingestion; stored once)
  dead-letters:replay-all [--source <id>] [--reason <code>]
                  replays every pending match, waiting until done
  dead-letters:discard <id>
  privacy:suppress (--user <userId> | --anonymous <anonymousId>) [--sources <id,id>]
                  drop that person's future events (every api within a few seconds)
  privacy:suppressions [--all]
  privacy:lift <suppression id>
  privacy:export (--user <userId> | --anonymous <anonymousId>) [--sources <id,id>]
                  every stored event of that person, as NDJSON on stdout (streamed)
  privacy:delete (--user <userId> | --anonymous <anonymousId>) [--sources <id,id>] [--suppress]
                  queue the deletion of that person's data (a worker carries it out)
  privacy:deletions                               (the latest 100 requests)
  privacy:deletion <id>                           (status, progress, verification record)
  rollups:rebuild --from <ISO date-time> --to <ISO date-time> [--source <id>]
                  recount event_counts_hourly for the whole UTC hours covering the range
  plans:list | plans:show <plan id>
  plans:create <name> --file <rules.json>         (rules: {allowUnplanned, common?, rules: [...]}; see the API docs)
  plans:version <plan id> --file <rules.json>     (a new version; sources following the latest use it)
  plans:import --format segment|rudderstack --file <export.json> [--name <name>]
  plans:infer --source <id> --from <ISO> --to <ISO>   (a draft from stored events, printed, not saved)
  plans:attach <source id> <plan id> [--version <n>] [--unplanned <mode>] [--violation <mode>]
                  modes: allow, flag, quarantine, drop
  plans:detach <source id>
  retention:run                                   (a retention pass now, unless a worker is running one)
  retention:status                                (the last run: when, how long, what it removed)

Output is JSON. Connection settings come from the environment (DATABASE_URL, REDIS_URL, ...).`;

class UsageError extends Error {}

function need(value: string | undefined, what: string): string {
  if (!value) throw new UsageError(`missing ${what}`);
  return value;
}

/** A verb that wrote its own output (NDJSON) returns this: nothing more is printed. */
const STREAMED = Symbol('streamed');

function idArg(v: string | undefined): string {
  if (!v || !/^\d{1,18}$/.test(v)) throw new UsageError('a dead letter id is a whole number');
  return v;
}

function uuidArg(v: string | undefined): string | undefined {
  if (v !== undefined && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v)) throw new UsageError('--source must be a source id (uuid)');
  return v;
}

function uuidOf(v: string | undefined, what: string): string {
  if (!v || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v)) throw new UsageError(`${what} must be an id (uuid)`);
  return v;
}

/** The JSON of a file named by --file. */
function jsonFile(path: string | undefined): unknown {
  const text = (() => {
    try {
      return readFileSync(need(path, '--file'), 'utf8');
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw new UsageError(`cannot read --file: ${(err as Error).message}`);
    }
  })();
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--file is not JSON: ${(err as Error).message}`);
  }
}

export async function runCli(argv: string[], config: AppConfig): Promise<unknown> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      kind: { type: 'string' },
      source: { type: 'string' },
      sources: { type: 'string' },
      name: { type: 'string' },
      overlap: { type: 'string' },
      all: { type: 'boolean' },
      from: { type: 'string' },
      to: { type: 'string' },
      reason: { type: 'string' },
      status: { type: 'string' },
      limit: { type: 'string' },
      user: { type: 'string' },
      anonymous: { type: 'string' },
      suppress: { type: 'boolean' },
      file: { type: 'string' },
      format: { type: 'string' },
      version: { type: 'string' },
      unplanned: { type: 'string' },
      violation: { type: 'string' },
    },
  });
  const [verb, arg] = positionals;
  if (!verb) throw new UsageError('missing verb');

  @Module({ imports: [CoreModule.forRoot(config), SourcesModule, RollupsModule, DeadLettersModule, PrivacyModule, LifecycleModule, TrackingPlansModule] })
  class CliModule {}
  const app = await NestFactory.createApplicationContext(CliModule, { logger: ['error'], abortOnError: false });
  try {
    app.get(DatabaseConnector).assertConnected();
    const keys = app.get(KeysService);
    const sources = app.get(SourcesService);
    switch (verb) {
      case 'keys:create': {
        const kind = need(values.kind, '--kind') as KeyKind;
        if (!['admin', 'read', 'write'].includes(kind)) throw new UsageError('--kind must be admin, read or write');
        return await keys.createKey({ kind, sourceId: values.source, sourceIds: values.sources?.split(',').map((s) => s.trim()).filter(Boolean), name: values.name }, CLI_ACTOR);
      }
      case 'keys:list':
        return await keys.listKeys({ kind: values.kind as KeyKind | undefined, sourceId: values.source, includeRevoked: values.all ?? false });
      case 'keys:revoke':
        return await keys.revokeKey(need(arg, '<key id>'), CLI_ACTOR);
      case 'keys:rotate': {
        const overlap = values.overlap === undefined ? undefined : Number(values.overlap);
        if (overlap !== undefined && !(Number.isInteger(overlap) && overlap >= 0)) throw new UsageError('--overlap must be a whole number of seconds');
        return await keys.rotateKey(need(arg, '<key id>'), overlap, CLI_ACTOR);
      }
      case 'sources:create':
        return await sources.createSource(need(arg, '<name>'), CLI_ACTOR);
      case 'sources:list':
        return await sources.listSources();
      case 'sources:delete':
        await sources.deleteSource(need(arg, '<source id>'), CLI_ACTOR);
        return { deleted: arg };
      case 'sources:retention': {
        const days = positionals[2];
        if (days === undefined || !(days === 'none' || (/^\d{1,5}$/.test(days) && Number(days) >= 1 && Number(days) <= 36500))) throw new UsageError('give the days (1-36500) or none');
        return await sources.updateSource(need(arg, '<source id>'), { retentionDays: days === 'none' ? null : Number(days) }, CLI_ACTOR);
      }
      case 'dead-letters:list': {
        const limit = values.limit === undefined ? 100 : Number(values.limit);
        if (!(Number.isInteger(limit) && limit >= 1 && limit <= 1000)) throw new UsageError('--limit must be 1 to 1000');
        if (values.status && !['pending', 'replayed', 'discarded'].includes(values.status)) throw new UsageError('--status must be pending, replayed or discarded');
        const rows = await app.get(DeadLetterStoreRepository).list({ sourceId: uuidArg(values.source), reason: values.reason, status: values.status as 'pending' | undefined }, limit);
        return rows.map((r) => ({ id: r.id, sourceId: r.source_id, messageId: r.message_id, reasonCode: r.reason_code, status: r.status, deadLetteredAt: r.created_at, reason: r.reason }));
      }
      case 'dead-letters:show': {
        const row = await app.get(DeadLettersService).get(idArg(arg));
        return { ...row, payload_text: undefined, payload: row.payload_text };
      }
      case 'dead-letters:replay': {
        const ids = positionals.slice(1).map(idArg);
        if (ids.length === 0) throw new UsageError('missing <id>');
        const outcome = await app.get(DeadLettersService).replay(ids, CLI_ACTOR);
        await app.get(IngestService).drain(); // the replayed events are in Redis before the CLI exits
        return outcome;
      }
      case 'dead-letters:replay-all': {
        const service = app.get(DeadLettersService);
        const started = await service.startReplay({ sourceId: uuidArg(values.source), reason: values.reason }, CLI_ACTOR);
        let replay = started;
        while (replay.status === 'running') {
          await new Promise((r) => setTimeout(r, 200));
          replay = await service.getReplay(started.id);
        }
        await app.get(IngestService).drain();
        return replay;
      }
      case 'dead-letters:discard':
        return await app.get(DeadLettersService).discard(idArg(arg), CLI_ACTOR);
      case 'privacy:suppress': {
        if ((values.user === undefined) === (values.anonymous === undefined)) throw new UsageError('give exactly one of --user and --anonymous');
        const sourceIds = values.sources?.split(',').map((x) => uuidArg(x.trim())!).filter(Boolean);
        return await app.get(SuppressionsService).create({ userId: values.user, anonymousId: values.anonymous }, sourceIds?.length ? sourceIds : null, CLI_ACTOR);
      }
      case 'privacy:suppressions':
        return await app.get(SuppressionsService).list(values.all ?? false);
      case 'privacy:export': {
        if ((values.user === undefined) === (values.anonymous === undefined)) throw new UsageError('give exactly one of --user and --anonymous');
        const sourceIds = values.sources?.split(',').map((x) => uuidArg(x.trim())!).filter(Boolean);
        for await (const chunk of app.get(ExportService).lines({ userId: values.user, anonymousId: values.anonymous, sourceIds }, CLI_ACTOR)) {
          if (!process.stdout.write(chunk)) await new Promise((resolve) => process.stdout.once('drain', resolve));
        }
        return STREAMED;
      }
      case 'privacy:delete': {
        if ((values.user === undefined) === (values.anonymous === undefined)) throw new UsageError('give exactly one of --user and --anonymous');
        const sourceIds = values.sources?.split(',').map((x) => uuidArg(x.trim())!).filter(Boolean);
        const row = await app.get(DeletionsService).request({ userId: values.user, anonymousId: values.anonymous, sourceIds: sourceIds?.length ? sourceIds : undefined, suppress: values.suppress ?? false }, CLI_ACTOR);
        return deletionView(row);
      }
      case 'privacy:deletions':
        return (await app.get(DeletionsService).list()).map(deletionView);
      case 'privacy:deletion': {
        const id = need(arg, '<deletion id>');
        if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw new UsageError('<deletion id> is a uuid');
        return deletionView(await app.get(DeletionsService).get(id));
      }
      case 'privacy:lift': {
        const id = need(arg, '<suppression id>');
        if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw new UsageError('<suppression id> is a uuid');
        return await app.get(SuppressionsService).lift(id, CLI_ACTOR);
      }
      case 'rollups:rebuild': {
        const [from, to] = [need(values.from, '--from'), need(values.to, '--to')].map((v) => new Date(v));
        if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || !(from < to)) throw new UsageError('--from and --to must be ISO date-times, from before to');
        if (values.source && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(values.source)) throw new UsageError('--source must be a source id (uuid)');
        return await app.get(RollupsRepository).rebuild(from, to, values.source);
      }
      case 'plans:list':
        return (await app.get(TrackingPlansService).list()).map((p) => planView(p));
      case 'plans:show': {
        const { plan, versions } = await app.get(TrackingPlansService).get(uuidOf(arg, '<plan id>'));
        return planView(plan, versions);
      }
      case 'plans:create':
        return planView(await app.get(TrackingPlansService).create({ name: need(arg, '<name>'), rules: jsonFile(values.file) }, CLI_ACTOR));
      case 'plans:version':
        return versionView(await app.get(TrackingPlansService).addVersion(uuidOf(arg, '<plan id>'), jsonFile(values.file), CLI_ACTOR));
      case 'plans:import': {
        if (values.format !== 'segment' && values.format !== 'rudderstack') throw new UsageError('--format must be segment or rudderstack');
        const doc = jsonFile(values.file);
        if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new UsageError('--file must hold a JSON object');
        return planView(await app.get(TrackingPlansService).importPlan(values.format, doc as Record<string, unknown>, values.name, CLI_ACTOR));
      }
      case 'plans:infer': {
        const [from, to] = [need(values.from, '--from'), need(values.to, '--to')].map((v) => new Date(v));
        if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) throw new UsageError('--from and --to must be ISO date-times');
        return await app.get(TrackingPlansService).infer(uuidOf(values.source, '--source'), from, to);
      }
      case 'plans:attach': {
        const modes = ['allow', 'flag', 'quarantine', 'drop'];
        for (const m of [values.unplanned, values.violation]) if (m !== undefined && !modes.includes(m)) throw new UsageError(`a mode is one of ${modes.join(', ')}`);
        const version = values.version === undefined ? null : Number(values.version);
        if (version !== null && !(Number.isInteger(version) && version >= 1)) throw new UsageError('--version must be a whole number from 1');
        return attachmentView(await app.get(TrackingPlansService).attach(uuidOf(arg, '<source id>'), {
          planId: uuidOf(positionals[2], '<plan id>'), version, onUnplanned: values.unplanned as 'allow' | undefined, onViolation: values.violation as 'allow' | undefined,
        }, CLI_ACTOR));
      }
      case 'plans:detach':
        await app.get(TrackingPlansService).detach(uuidOf(arg, '<source id>'), CLI_ACTOR);
        return { detached: arg };
      case 'retention:run': {
        const scheduler = app.get(RetentionScheduler);
        const report = await scheduler.tick(true);
        if (report === null) throw new Error(scheduler.lastError ?? 'retention did not run: a worker is running it now (see retention:status)');
        return report;
      }
      case 'retention:status':
        return (await app.get(ScheduledRunsRepository).list()).find((r) => r.name === RETENTION_JOB) ?? { name: RETENTION_JOB, runs: 0 };
      default:
        throw new UsageError(`unknown verb "${verb}"`);
    }
  } finally {
    await app.close();
  }
}

async function main(): Promise<void> {
  let config: AppConfig | undefined;
  try {
    // The CLI is neither api nor worker: no subscriptions, no consumers.
    config = loadConfig({ ROLE: 'worker', METRICS_PORT: '' });
    const result = await runCli(process.argv.slice(2), config);
    if (result !== STREAMED) console.log(JSON.stringify(result, null, 2));
    process.exit(0);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`${(err as Error).message}\n\n${USAGE}`);
      process.exit(2);
    }
    const status = (err as { getStatus?: () => number }).getStatus?.();
    console.error(status ? (err as Error).message : describeStartupError(err, { database: config?.database.url, redis: config?.redis.url }));
    process.exit(1);
  }
}

if (require.main === module) void main();
