import { BadRequestException, Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query, UseInterceptors } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse } from '@nestjs/swagger';
import { QueryCacheInterceptor } from './query-cache.interceptor';
import { KeyProtected } from '../auth/key-protected.decorator';
import { AppConfig } from '../config';
import { ApiFieldFilters } from './api-field-filters';
import { FieldFilter, FieldFilters, FieldFiltersInterceptor } from './event-filters';
import { CountsDto, CountsQueryDto, FunnelDto, FunnelResultDto, RetentionDto, RetentionResultDto, TopEventsDto, TopEventsQueryDto, UniquesDto, UniquesQueryDto } from './query.dto';
import { StatsRepository } from './stats.repository';
import { checkRange, checkTimeZone, rollupSpan } from './time-buckets';

const UNIT_SECONDS = { m: 60, h: 3600, d: 86400 } as const;
const MAX_WINDOW_SECONDS = 90 * 86400;
const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 10000) / 10000 : 0);

@KeyProtected('query', ['read', 'admin'], 'A write key, or a read key not scoped to this source')
@Controller('v1/sources/:sourceId/stats')
@UseInterceptors(FieldFiltersInterceptor, QueryCacheInterceptor)
@ApiFieldFilters()
@ApiHeader({ name: 'X-Sluice-Cache', required: false, description: 'In the response: hit (served from the aggregate cache, at most QUERY_CACHE_TTL_MS old), miss, or off' })
@ApiServiceUnavailableResponse({ description: 'query_timeout: the query ran longer than QUERY_STATEMENT_TIMEOUT_MS (narrow the range or add filters)' })
export class StatsController {
  constructor(
    private readonly stats: StatsRepository,
    private readonly config: AppConfig,
  ) {}

  @Get('counts')
  @ApiOperation({
    summary: 'Event counts per minute, hour or day of a time zone, optionally split by event name or type',
    description: 'Every bucket of the range is present (empty ones as 0). Whole UTC hours are read from the hourly rollup the worker keeps in its insert transaction (duplicates never count); partial hours at the edges, minute buckets, zones with a non-whole-hour offset and filters the rollup does not hold read raw events.',
  })
  @ApiOkResponse({ type: CountsDto })
  async counts(@Param('sourceId', ParseUUIDPipe) sourceId: string, @Query() q: CountsQueryDto, @FieldFilters() fields: FieldFilter[]): Promise<CountsDto> {
    const interval = q.interval ?? 'hour';
    const tz = checkTimeZone(q.tz);
    const range = checkRange(q, interval, this.config.query.maxBuckets);
    const filters = { type: q.type, event: q.event, userId: q.userId, anonymousId: q.anonymousId, fields };
    const rows = await this.stats.counts({ sourceId, range, interval, tz, groupBy: q.groupBy, ...filters });
    const buckets: CountsDto['buckets'] = rows.map((row) => ({
      start: row.start.toISOString(),
      count: Number(row.n),
      ...(q.groupBy ? { groups: Object.fromEntries(Object.entries(row.groups ?? {}).map(([k, n]) => [k, Number(n)])) } : {}),
    }));
    const rollups = this.config.query.rollups && !q.userId && !q.anonymousId && fields.length === 0 && rollupSpan(range, interval, tz) !== null;
    return { interval, tz, read: rollups ? 'rollup' : 'raw', buckets };
  }

  @Get('top-events')
  @ApiOperation({ summary: 'The most frequent track event names in the range, with their counts and distinct users (userId, else anonymousId)' })
  @ApiOkResponse({ type: TopEventsDto })
  async topEvents(@Param('sourceId', ParseUUIDPipe) sourceId: string, @Query() q: TopEventsQueryDto, @FieldFilters() fields: FieldFilter[]): Promise<TopEventsDto> {
    const range = checkRange(q, 'hour', Number.MAX_SAFE_INTEGER);
    const rows = await this.stats.topEvents({ sourceId, range, limit: q.limit ?? 10, event: q.event, userId: q.userId, anonymousId: q.anonymousId, fields });
    return { events: rows.map((r) => ({ event: r.event, count: Number(r.n), users: Number(r.users) })) };
  }

  @Get('uniques')
  @ApiOperation({
    summary: 'Distinct users per hour, day, week or month (userId, else anonymousId); exact',
    description: 'Whole UTC days are read from the daily active-users rollup when tz is UTC; other zones, hour buckets and the edges of the range read raw events.',
  })
  @ApiOkResponse({ type: UniquesDto })
  async uniques(@Param('sourceId', ParseUUIDPipe) sourceId: string, @Query() q: UniquesQueryDto): Promise<UniquesDto> {
    const interval = q.interval ?? 'day';
    const tz = checkTimeZone(q.tz);
    const range = checkRange(q, interval, this.config.query.maxBuckets);
    const rows = await this.stats.uniques({ sourceId, range, interval, tz });
    const read = this.config.query.rollups && interval !== 'hour' && ['UTC', 'Etc/UTC', 'GMT', 'Etc/GMT', 'Zulu'].includes(tz) ? 'rollup' : 'raw';
    return { interval, tz, approximate: false, read, buckets: rows.map((r) => ({ start: r.start.toISOString(), users: Number(r.users) })) };
  }

  @Post('funnel')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Users reaching each of 2 to 5 track events in order, within a window of their first step; conversion and median time between steps',
    description: "Each user's path starts at their first step-1 event in from–to; every later step must come after the previous one and within `window` of that start.",
  })
  @ApiOkResponse({ type: FunnelResultDto })
  async funnel(@Param('sourceId', ParseUUIDPipe) sourceId: string, @Body() body: FunnelDto): Promise<FunnelResultDto> {
    const range = checkRange(body, 'hour', Number.MAX_SAFE_INTEGER);
    const windowSeconds = Number(body.window.slice(0, -1)) * UNIT_SECONDS[body.window.slice(-1) as keyof typeof UNIT_SECONDS];
    if (windowSeconds > MAX_WINDOW_SECONDS) throw new BadRequestException({ message: 'window is at most 90d.', reason: 'invalid_window', field: 'window' });
    for (const [i, st] of body.steps.entries()) {
      const props = Object.entries(st.properties ?? {});
      if (props.length > 10 || props.some(([, v]) => !['string', 'number', 'boolean'].includes(typeof v))) {
        throw new BadRequestException({ message: `steps[${i}].properties: at most 10 properties, each a string, number or boolean.`, reason: 'invalid_step', field: `steps[${i}].properties` });
      }
    }
    const rows = await this.stats.funnel({ sourceId, range, windowSeconds, steps: body.steps });
    const first = Number(rows[0]?.users ?? 0);
    return {
      window: body.window,
      steps: rows.map((r, i) => {
        const users = Number(r.users);
        return {
          event: body.steps[i].event,
          users,
          conversion: ratio(users, first),
          fromPrevious: i === 0 ? 1 : ratio(users, Number(rows[i - 1].users)),
          medianSecondsFromPrevious: r.median_seconds === null ? null : Math.round(r.median_seconds * 1000) / 1000,
        };
      }),
    };
  }

  @Post('retention')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cohorts by first occurrence of an event, with the share returning (another event) in each later day or week' })
  @ApiOkResponse({ type: RetentionResultDto })
  async retention(@Param('sourceId', ParseUUIDPipe) sourceId: string, @Body() body: RetentionDto): Promise<RetentionResultDto> {
    const tz = checkTimeZone(body.tz);
    const range = checkRange(body, body.interval, this.config.query.maxBuckets);
    const rows = await this.stats.retention({ sourceId, range, interval: body.interval, periods: body.periods, tz, cohortEvent: body.cohortEvent, returnEvent: body.returnEvent });
    const cohorts: RetentionResultDto['cohorts'] = [];
    for (const r of rows) {
      const start = r.start.toISOString();
      let c = cohorts[cohorts.length - 1];
      if (!c || c.start !== start) cohorts.push((c = { start, users: Number(r.users), returned: new Array(body.periods).fill(0), rates: [] }));
      if (r.period !== null) c.returned[r.period - 1] = Number(r.returned);
    }
    for (const c of cohorts) c.rates = c.returned.map((n) => ratio(n, c.users));
    return { interval: body.interval, tz, cohorts };
  }
}
