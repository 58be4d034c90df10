import { BadRequestException, Body, Controller, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { KeyProtected } from '../auth/key-protected.decorator';
import { judgeWith } from '../tracking-plans/plan-registry.service';
import { ValidateEventsDto, ValidateResultDto } from '../tracking-plans/tracking-plans.dto';
import { TrackingPlansService } from '../tracking-plans/tracking-plans.service';
import { IngestService } from './ingest.service';

const MAX_EVENTS = 1000;

/** The dry run of ingestion against a tracking plan: nothing is stored or counted. */
@KeyProtected('tracking-plans', ['read', 'admin'], 'A write key, or a read key not scoped to this source')
@Controller('v1/sources/:sourceId/tracking-plan')
export class PlanValidateController {
  constructor(
    private readonly ingest: IngestService,
    private readonly plans: TrackingPlansService,
  ) {}

  @Post('validate')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Validate events against the source tracking plan without storing anything (for CI pipelines)',
    description: "Each event (with its type, as in /v1/batch) gets what ingestion would do with it: rejected (not a valid event at all), valid, or the action the source's modes give its violations (allow, flag, quarantine, drop), with the violations. planId (and version) validate against another plan, e.g. a version not yet attached.",
  })
  @ApiOkResponse({ type: ValidateResultDto })
  async validate(@Param('sourceId', ParseUUIDPipe) sourceId: string, @Body() body: ValidateEventsDto): Promise<ValidateResultDto> {
    if (body.events.length > MAX_EVENTS) throw new BadRequestException({ message: `at most ${MAX_EVENTS} events per dry run`, reason: 'batch_too_long', field: 'events' });
    const active = await this.plans.planFor(sourceId, body.planId, body.version);
    let valid = 0;
    const events: ValidateResultDto['events'] = body.events.map((event, index) => {
      const rejection = this.ingest.check(event);
      if (rejection) return { index, outcome: 'rejected', violations: [], reason: rejection.reason, message: rejection.message };
      const j = judgeWith(active, event as Record<string, unknown>);
      if (!j) valid++;
      return { index, outcome: j ? j.action : 'valid', violations: j?.violations ?? [] };
    });
    return { plan: `${active.plan.planId}@${active.plan.version}`, valid, invalid: body.events.length - valid, events };
  }
}
