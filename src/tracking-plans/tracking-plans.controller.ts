import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { Actor } from '../audit/actor';
import { CurrentActor } from '../audit/actor';
import { KeyProtected } from '../auth/key-protected.decorator';
import { PLAN_POLL_MS } from './plan-registry.service';
import { AttachmentRow, PlanRow, VersionRow } from './tracking-plans.repository';
import { AddVersionDto, AttachmentDto, AttachPlanDto, CreatePlanDto, ImportPlanDto, InferPlanDto, InferredPlanDto, PlanDto, PlanIdParams, PlanVersionDto, PlanVersionParams, SourceIdParams, UpdatePlanDto } from './tracking-plans.dto';
import { TrackingPlansService } from './tracking-plans.service';

export const planView = (p: PlanRow, versions?: VersionRow[]): PlanDto => ({
  id: p.id, name: p.name, description: p.description, latestVersion: p.latest_version, sources: p.sources, createdAt: p.created_at, updatedAt: p.updated_at,
  ...(versions ? { versions: versions.map(versionView) } : {}),
});
export const versionView = (v: VersionRow): PlanVersionDto => ({ version: v.version, rules: v.rules as unknown as Record<string, unknown>, createdAt: v.created_at, createdBy: v.created_by });
export const attachmentView = (a: AttachmentRow): AttachmentDto => ({ sourceId: a.source_id, planId: a.plan_id, version: a.version, onUnplanned: a.on_unplanned, onViolation: a.on_violation, updatedAt: a.updated_at });

const PROPAGATION = `In force on every api replica at once (Redis pub/sub), within ${PLAN_POLL_MS / 1000} s if a message is lost.`;

@KeyProtected('tracking-plans', ['admin'], 'Not an admin key')
@Controller('v1/admin/tracking-plans')
export class TrackingPlansController {
  constructor(private readonly plans: TrackingPlansService) {}

  @Post()
  @ApiOperation({ summary: 'Create a tracking plan with its first version', description: 'The rules are checked and every schema compiled: a plan that is stored is a plan that works (400 invalid_tracking_plan says which rule is wrong).' })
  @ApiCreatedResponse({ type: PlanDto })
  async create(@Body() body: CreatePlanDto, @CurrentActor() actor: Actor): Promise<PlanDto> {
    return planView(await this.plans.create(body, actor));
  }

  @Get()
  @ApiOperation({ summary: 'Tracking plans, newest first' })
  @ApiOkResponse({ type: [PlanDto] })
  async list(): Promise<PlanDto[]> {
    return (await this.plans.list()).map((p) => planView(p));
  }

  @Post('import')
  @ApiOperation({ summary: 'Create a plan from a Segment Protocols or RudderStack export', description: 'Segment: the Public API rules list ({data: {rules}}) or the Config API document ({rules: {events, global, identify, group}}). RudderStack: a Data Catalog plan with its events exported with format=schema ({name, events}), or a legacy plan in the Config shape. Each event schema describes the whole message; its properties, traits and context parts become the rule.' })
  @ApiCreatedResponse({ type: PlanDto })
  async import(@Body() body: ImportPlanDto, @CurrentActor() actor: Actor): Promise<PlanDto> {
    return planView(await this.plans.importPlan(body.format, body.plan, body.name, actor));
  }

  @Post('infer')
  @HttpCode(200)
  @ApiOperation({ summary: "A draft plan from a source's stored events", description: 'One rule per track event name and per other call type seen in the range; each top-level property (traits for identify and group) typed with every JSON type seen, required when every event had it. Nothing is saved: POST the rules to create a plan.' })
  @ApiOkResponse({ type: InferredPlanDto })
  async infer(@Body() body: InferPlanDto): Promise<InferredPlanDto> {
    const r = await this.plans.infer(body.sourceId, new Date(body.from), new Date(body.to));
    return { rules: r.rules as unknown as Record<string, unknown>, events: r.events };
  }

  @Get(':id')
  @ApiOperation({ summary: 'A tracking plan with its versions' })
  @ApiOkResponse({ type: PlanDto })
  async get(@Param() p: PlanIdParams): Promise<PlanDto> {
    const { plan, versions } = await this.plans.get(p.id);
    return planView(plan, versions);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Rename a plan or change its description (rules change by a new version)' })
  @ApiOkResponse({ type: PlanDto })
  async update(@Param() p: PlanIdParams, @Body() body: UpdatePlanDto, @CurrentActor() actor: Actor): Promise<PlanDto> {
    return planView(await this.plans.update(p.id, body, actor));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a plan no source follows (409 plan_in_use otherwise)' })
  @ApiNoContentResponse()
  async remove(@Param() p: PlanIdParams, @CurrentActor() actor: Actor): Promise<void> {
    await this.plans.remove(p.id, actor);
  }

  @Post(':id/versions')
  @ApiOperation({ summary: 'Add a version (versions are immutable)', description: `Sources that follow the latest version use it from now on. ${PROPAGATION}` })
  @ApiCreatedResponse({ type: PlanVersionDto })
  async addVersion(@Param() p: PlanIdParams, @Body() body: AddVersionDto, @CurrentActor() actor: Actor): Promise<PlanVersionDto> {
    return versionView(await this.plans.addVersion(p.id, body.rules, actor));
  }

  @Get(':id/versions/:version')
  @ApiOperation({ summary: 'One version of a plan' })
  @ApiOkResponse({ type: PlanVersionDto })
  async version(@Param() p: PlanVersionParams): Promise<PlanVersionDto> {
    return versionView(await this.plans.version(p.id, Number(p.version)));
  }
}

@KeyProtected('tracking-plans', ['admin'], 'Not an admin key')
@Controller('v1/admin/sources/:sourceId/tracking-plan')
export class SourcePlanController {
  constructor(private readonly plans: TrackingPlansService) {}

  @Put()
  @ApiOperation({
    summary: 'Make a source follow a plan (a pinned version or the latest), with what to do with each kind of violation',
    description: `allow: store as is, count it; flag: store with the violations in the event's violations field; quarantine: store in dead_letters (schema_violation) to fix and replay; drop: store nothing, count it. A violation never makes ingestion answer 4xx. ${PROPAGATION}`,
  })
  @ApiOkResponse({ type: AttachmentDto })
  async attach(@Param() p: SourceIdParams, @Body() body: AttachPlanDto, @CurrentActor() actor: Actor): Promise<AttachmentDto> {
    return attachmentView(await this.plans.attach(p.sourceId, body, actor));
  }

  @Get()
  @ApiOperation({ summary: 'The plan a source follows and its modes' })
  @ApiOkResponse({ type: AttachmentDto })
  async get(@Param() p: SourceIdParams): Promise<AttachmentDto> {
    return attachmentView(await this.plans.attachment(p.sourceId));
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({ summary: 'Stop validating a source against a plan' })
  @ApiNoContentResponse()
  async detach(@Param() p: SourceIdParams, @CurrentActor() actor: Actor): Promise<void> {
    await this.plans.detach(p.sourceId, actor);
  }
}
