import { BadRequestException, ConflictException, Injectable, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { Actor } from '../audit/actor';
import { AuditRepository } from '../audit/audit.repository';
import { SourcesRepository } from '../sources/sources.repository';
import { AppConfig } from '../config';
import { importPlan } from './plan-import';
import { inferPlanRules, ObservedEvent } from './plan-infer';
import { CompiledPlan, parsePlanRules, PlanRules, PlanRulesError } from './plan-rules';
import { PlanRegistry } from './plan-registry.service';
import { AttachmentRow, PlanAction, PlanRow, TrackingPlansRepository, VersionRow } from './tracking-plans.repository';

/** Plans, their versions and which source follows which: every change audited and published to every api. */
@Injectable()
export class TrackingPlansService {
  constructor(
    private readonly repo: TrackingPlansRepository,
    private readonly sources: SourcesRepository,
    private readonly registry: PlanRegistry,
    private readonly audit: AuditRepository,
    private readonly config: AppConfig,
  ) {}

  /** A new plan from a Segment Protocols or RudderStack export (see plan-import.ts for the shapes). */
  async importPlan(format: 'segment' | 'rudderstack', doc: Record<string, unknown>, name: string | undefined, actor: Actor): Promise<PlanRow> {
    let imported: { name: string | null; rules: PlanRules };
    try {
      imported = importPlan(format, doc);
    } catch (err) {
      if (err instanceof PlanRulesError) throw new BadRequestException({ message: `Cannot import this ${format} plan: ${err.message}`, reason: 'invalid_tracking_plan' });
      throw err;
    }
    return this.create({ name: name ?? imported.name ?? `imported from ${format}`, description: `imported from ${format}`, rules: imported.rules }, actor);
  }

  /** A draft plan from a source's stored events in a range (nothing is saved). */
  async infer(sourceId: string, from: Date, to: Date): Promise<{ rules: PlanRules; events: number }> {
    if (!(from < to)) throw new BadRequestException({ message: 'from must be before to', reason: 'invalid_range' });
    if (!(await this.sources.findById(sourceId))) throw new NotFoundException(`No source with id ${sourceId}.`);
    const observed = (await this.repo.observe(sourceId, from, to, this.config.query.statementTimeoutMs).catch((err: unknown) => {
      const code = (err as { driverError?: { code?: string } }).driverError?.code ?? (err as { code?: string }).code;
      if (code !== '57014') throw err;
      throw new ServiceUnavailableException({ message: `Reading the events took longer than ${this.config.query.statementTimeoutMs} ms and was stopped: infer from a shorter range.`, reason: 'query_timeout' });
    })) as ObservedEvent[];
    const rules = parse(inferPlanRules(observed));
    return { rules, events: observed.reduce((n, o) => n + o.total, 0) };
  }

  async create(input: { name: string; description?: string | null; rules: unknown }, actor: Actor): Promise<PlanRow> {
    const rules = parse(input.rules);
    const id = await this.repo.transaction(async (m) => {
      const planId = await this.repo.createPlan(m, input.name.trim(), input.description ?? null);
      await this.repo.addVersion(m, planId, rules, actor.actorKeyId ?? actor.actorType);
      await this.repo.bump(m);
      await this.audit.append({ ...actor, action: 'tracking_plan.create', targetType: 'tracking_plan', targetId: planId, change: { name: input.name.trim(), version: 1, rules: rules.rules.length } }, m);
      return planId;
    });
    return (await this.repo.get(id))!;
  }

  async addVersion(planId: string, rulesInput: unknown, actor: Actor): Promise<VersionRow> {
    const rules = parse(rulesInput);
    const version = await this.repo.transaction(async (m) => {
      const v = await this.repo.addVersion(m, planId, rules, actor.actorKeyId ?? actor.actorType);
      if (v === null) throw new NotFoundException(`No tracking plan with id ${planId}.`);
      await this.repo.bump(m);
      await this.audit.append({ ...actor, action: 'tracking_plan.version', targetType: 'tracking_plan', targetId: planId, change: { version: v, rules: rules.rules.length } }, m);
      return v;
    });
    await this.registry.publish(); // sources that follow the latest version use it now
    return (await this.repo.version(planId, version))!;
  }

  async update(planId: string, patch: { name?: string; description?: string | null }, actor: Actor): Promise<PlanRow> {
    await this.repo.transaction(async (m) => {
      const before = await this.repo.get(planId, m);
      if (!before) throw new NotFoundException(`No tracking plan with id ${planId}.`);
      await this.repo.rename(m, planId, { name: patch.name?.trim(), description: patch.description });
      await this.audit.append({ ...actor, action: 'tracking_plan.update', targetType: 'tracking_plan', targetId: planId, change: { name: patch.name?.trim(), description: patch.description } }, m);
    });
    return (await this.repo.get(planId))!;
  }

  async remove(planId: string, actor: Actor): Promise<void> {
    await this.repo.transaction(async (m) => {
      const before = await this.repo.get(planId, m);
      if (!before) throw new NotFoundException(`No tracking plan with id ${planId}.`);
      if (before.sources.length) throw new ConflictException({ message: `Tracking plan ${planId} is followed by ${before.sources.length} source(s) (${before.sources.join(', ')}): detach it from them first.`, reason: 'plan_in_use', sources: before.sources });
      await this.repo.deletePlan(m, planId);
      await this.audit.append({ ...actor, action: 'tracking_plan.delete', targetType: 'tracking_plan', targetId: planId, change: { name: before.name } }, m);
    });
  }

  list(): Promise<PlanRow[]> {
    return this.repo.list();
  }

  async get(planId: string): Promise<{ plan: PlanRow; versions: VersionRow[] }> {
    const plan = await this.repo.get(planId);
    if (!plan) throw new NotFoundException(`No tracking plan with id ${planId}.`);
    return { plan, versions: await this.repo.versions(planId) };
  }

  async version(planId: string, version: number): Promise<VersionRow> {
    const v = await this.repo.version(planId, version);
    if (!v || v.version !== version) throw new NotFoundException(`Tracking plan ${planId} has no version ${version}.`);
    return v;
  }

  async attach(sourceId: string, a: { planId: string; version?: number | null; onUnplanned?: PlanAction; onViolation?: PlanAction }, actor: Actor): Promise<AttachmentRow> {
    const row = await this.repo.transaction(async (m) => {
      if (!(await this.sources.findById(sourceId, m))) throw new NotFoundException(`No source with id ${sourceId}.`);
      const v = await this.repo.version(a.planId, a.version ?? null, m);
      if (!v) throw new NotFoundException(`No tracking plan with id ${a.planId}.`);
      if (a.version != null && v.version !== a.version) throw new NotFoundException(`Tracking plan ${a.planId} has no version ${a.version}.`);
      const before = await this.repo.attachment(sourceId, m);
      const attached = await this.repo.attach(m, {
        source_id: sourceId, plan_id: a.planId, version: a.version ?? null,
        on_unplanned: a.onUnplanned ?? before?.on_unplanned ?? 'allow', on_violation: a.onViolation ?? before?.on_violation ?? 'flag',
      });
      await this.repo.bump(m);
      await this.audit.append({ ...actor, action: 'tracking_plan.attach', targetType: 'source', targetId: sourceId, change: { from: before && viewChange(before), to: viewChange(attached) } }, m);
      return attached;
    });
    await this.registry.publish();
    return row;
  }

  async detach(sourceId: string, actor: Actor): Promise<void> {
    await this.repo.transaction(async (m) => {
      const before = await this.repo.attachment(sourceId, m);
      if (!before) throw new NotFoundException(`Source ${sourceId} follows no tracking plan.`);
      await this.repo.detach(m, sourceId);
      await this.repo.bump(m);
      await this.audit.append({ ...actor, action: 'tracking_plan.detach', targetType: 'source', targetId: sourceId, change: { from: viewChange(before) } }, m);
    });
    await this.registry.publish();
  }

  async attachment(sourceId: string): Promise<AttachmentRow> {
    const a = await this.repo.attachment(sourceId);
    if (!a) throw new NotFoundException(`Source ${sourceId} follows no tracking plan.`);
    return a;
  }

  /** A compiled version for a dry run: the one named, or the one the source follows now. */
  async planFor(sourceId: string, planId?: string, version?: number): Promise<{ plan: CompiledPlan; onUnplanned: PlanAction; onViolation: PlanAction }> {
    const a = await this.repo.attachment(sourceId);
    const id = planId ?? a?.plan_id;
    if (!id) throw new BadRequestException({ message: `Source ${sourceId} follows no tracking plan: attach one, or name one with planId.`, reason: 'no_tracking_plan' });
    const v = await this.repo.version(id, version ?? (planId ? null : (a?.version ?? null)));
    if (!v || (version !== undefined && v.version !== version)) throw new NotFoundException(`No tracking plan ${id}${version ? ` version ${version}` : ''}.`);
    return { plan: new CompiledPlan(id, v.version, v.rules), onUnplanned: a?.on_unplanned ?? 'allow', onViolation: a?.on_violation ?? 'flag' };
  }
}

function parse(input: unknown): PlanRules {
  try {
    return parsePlanRules(input);
  } catch (err) {
    if (err instanceof PlanRulesError) throw new BadRequestException({ message: `Invalid tracking plan: ${err.message}`, reason: 'invalid_tracking_plan' });
    throw err;
  }
}

const viewChange = (a: AttachmentRow) => ({ planId: a.plan_id, version: a.version, onUnplanned: a.on_unplanned, onViolation: a.on_violation });
