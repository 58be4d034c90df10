import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type Redis from 'ioredis';
import { AppConfig } from '../config';
import { MetricsService } from '../metrics/metrics.service';
import { RedisConnections } from '../redis/redis-connections';
import { CompiledPlan, Violation } from './plan-rules';
import { PlanAction, TrackingPlansRepository } from './tracking-plans.repository';

/** How often an api checks whether the plans changed, should a pub/sub message be lost. */
export const PLAN_POLL_MS = 2000;

export interface ActivePlan {
  plan: CompiledPlan;
  onUnplanned: PlanAction;
  onViolation: PlanAction;
}

/** What a source's plan says of one event that violates it. */
export interface Judgement {
  action: PlanAction;
  /** `<plan id>@<version>` */
  plan: string;
  violations: Violation[];
}

const SEVERITY: Record<PlanAction, number> = { allow: 0, flag: 1, quarantine: 2, drop: 3 };

/**
 * The tracking plans in force, in every api's memory: a source id -> compiled plan version. A
 * change anywhere is published on Redis and every api reloads at once (a 2 s poll of the
 * generation counter catches a lost message). A reload compiles the new versions first (reusing
 * the compiled ones that did not change) and then swaps the whole map in one assignment, so an
 * event is always judged by one complete version, never a half-applied plan.
 */
@Injectable()
export class PlanRegistry implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(PlanRegistry.name);
  private readonly channel: string;
  private plans = new Map<string, ActivePlan>();
  private compiled = new Map<string, CompiledPlan>();
  private generation: string | null = null;
  private timer?: NodeJS.Timeout;
  private subscriber?: Redis;
  private publisher?: Redis;
  private reloading?: Promise<void>;
  private again = false;

  constructor(
    private readonly repo: TrackingPlansRepository,
    private readonly redis: RedisConnections,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
  ) {
    this.channel = `${config.redis.prefix}:tracking-plans:changed`;
  }

  async onModuleInit(): Promise<void> {
    await this.reload(); // the CLI too: a dead letter it replays meets the plan in force
    if (!this.config.servesApi) return;
    this.timer = setInterval(() => void this.pollGeneration(), PLAN_POLL_MS).unref();
    this.subscriber = this.redis.create(this.config.redis.url, 'subscriber');
    this.subscriber.on('message', () => void this.reload());
    this.subscriber.on('ready', () => void this.reload()); // a reconnect may have missed messages
    this.subscriber.subscribe(this.channel).catch((err: Error) => this.logger.warn(`cannot subscribe to tracking-plan changes (polling every ${PLAN_POLL_MS} ms): ${err.message}`));
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  forSource(sourceId: string): ActivePlan | undefined {
    return this.plans.get(sourceId);
  }

  /** The judgement of the source's plan on one event; undefined when it has no plan or the event violates nothing. */
  judge(sourceId: string, event: Record<string, unknown>, batchContext?: Record<string, unknown>): Judgement | undefined {
    const active = this.plans.get(sourceId);
    if (!active) return undefined;
    return judgeWith(active, event, batchContext);
  }

  /** Tells every api (this one at once) that plans changed; best effort, the poll bounds a loss. */
  async publish(): Promise<void> {
    await this.reload(); // the api that made the change applies it before it answers
    try {
      this.publisher ??= this.redis.create(this.config.redis.url, 'plain');
      await this.publisher.publish(this.channel, String(Date.now()));
    } catch (err) {
      this.logger.warn(`tracking-plan change not published (apis pick it up within ${PLAN_POLL_MS} ms): ${(err as Error).message}`);
    }
  }

  /** Reloads the plans in force; concurrent calls coalesce into one more reload after the running one. */
  reload(): Promise<void> {
    if (this.reloading) {
      this.again = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      do {
        this.again = false;
        await this.load();
      } while (this.again);
    })().finally(() => (this.reloading = undefined));
    return this.reloading;
  }

  private async pollGeneration(): Promise<void> {
    try {
      if ((await this.repo.generation()) !== this.generation) await this.reload();
    } catch {
      // the database is away: the plans in memory stay in force
    }
  }

  private async load(): Promise<void> {
    try {
      const generation = await this.repo.generation();
      const rows = await this.repo.active();
      const compiled = new Map<string, CompiledPlan>();
      const plans = new Map<string, ActivePlan>();
      for (const r of rows) {
        const key = `${r.plan_id}@${r.version}`;
        let plan = compiled.get(key) ?? this.compiled.get(key);
        if (!plan) {
          try {
            plan = new CompiledPlan(r.plan_id, r.version, r.rules);
          } catch (err) {
            // Stored versions were compiled when written; this would be a bug, not bad input.
            this.logger.error(`tracking plan ${key} does not compile; source ${r.source_id} is not validated: ${(err as Error).message}`);
            continue;
          }
        }
        compiled.set(key, plan);
        plans.set(r.source_id, { plan, onUnplanned: r.on_unplanned, onViolation: r.on_violation });
      }
      this.compiled = compiled;
      this.plans = plans; // one assignment: requests see the old map or the new one, whole
      this.generation = generation;
      this.metrics.planReloads.inc({ outcome: 'ok' });
    } catch (err) {
      this.metrics.planReloads.inc({ outcome: 'failed' });
      this.logger.warn(`tracking plans not reloaded (the ones in memory stay in force): ${(err as Error).message}`);
    }
  }
}

/** A plan's judgement of an event: the stricter action of its kinds of violation (drop > quarantine > flag > allow). */
export function judgeWith(active: ActivePlan, event: Record<string, unknown>, batchContext?: Record<string, unknown>): Judgement | undefined {
  const { plan } = active;
  const context = batchContext && plan.usesContext ? mergeContext(batchContext, event.context) : undefined;
  const violations = plan.check(event, context);
  if (violations.length === 0) return undefined;
  let action: PlanAction = 'allow';
  for (const v of violations) {
    const a = v.type === 'unplanned_event' ? active.onUnplanned : active.onViolation;
    if (SEVERITY[a] > SEVERITY[action]) action = a;
  }
  return { action, plan: `${plan.planId}@${plan.version}`, violations };
}

function mergeContext(batch: Record<string, unknown>, own: unknown): Record<string, unknown> {
  return typeof own === 'object' && own !== null && !Array.isArray(own) ? { ...batch, ...(own as Record<string, unknown>) } : { ...batch };
}
