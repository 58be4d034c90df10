import { randomUUID } from 'node:crypto';
import { MID, sdkEvent } from './event-mix';
import { copyFields } from '../../src/domain/events/copy-format';
import { toEventRow } from '../../src/domain/events/enrichment';

/**
 * Fast factories for request bodies of the realistic event mix (./event-mix.ts) with unique
 * messageIds. Bodies are pre-rendered templates with a placeholder where each messageId goes, so
 * producing a 100 KB body costs a string join, not a JSON.stringify: the load generator shares
 * the two cores with everything it measures.
 */

export { MID, sdkEvent } from './event-mix';

/** A pre-rendered body split at its messageId placeholders. */
class Template {
  readonly parts: string[];
  constructor(json: string) {
    this.parts = json.split(MID);
  }
  get slots(): number {
    return this.parts.length - 1;
  }
  render(idPrefix: string): string {
    const p = this.parts;
    let out = p[0];
    for (let i = 1; i < p.length; i++) out += `${idPrefix}-${i}${p[i]}`;
    return out;
  }
}

/** Produces distinct bodies with unique messageIds, cheaply. */
export class BodyFactory {
  private readonly templates: Template[];
  private n = 0;
  readonly eventsPerBody: number;
  readonly averageBytes: number;

  private constructor(templates: Template[], private readonly tag: string) {
    this.templates = templates;
    this.eventsPerBody = templates[0].slots;
    this.averageBytes = Math.round(templates.reduce((s, t) => s + t.render(`${tag}-000000000`).length, 0) / templates.length);
  }

  /** `POST /v1/batch` bodies of `size` events, like analytics-node's flush ({batch, sentAt}). */
  static batch(tag: string, size: number, variants = 16): BodyFactory {
    const now = Date.now();
    const templates: Template[] = [];
    for (let v = 0; v < variants; v++) {
      const batch = Array.from({ length: size }, (_, j) => sdkEvent(v * size + j, now));
      templates.push(new Template(JSON.stringify({ batch, sentAt: new Date(now).toISOString() })));
    }
    return new BodyFactory(templates, tag);
  }

  /** `POST /v1/track` bodies, one track event each. */
  static track(tag: string, variants = 32): BodyFactory {
    const now = Date.now();
    const templates: Template[] = [];
    for (let i = 0; templates.length < variants; i++) {
      const e = sdkEvent(i, now);
      if (e.type !== 'track') continue;
      const { type: _type, ...body } = e;
      templates.push(new Template(JSON.stringify({ ...body, sentAt: new Date(now).toISOString() })));
    }
    return new BodyFactory(templates, tag);
  }

  next(): string {
    const n = this.n++;
    return this.templates[n % this.templates.length].render(`${this.tag}-${n.toString(36)}`);
  }
}

/** Bytes of one event as JSON, for the report. */
export function eventBytes(sample = 200): number {
  const now = Date.now();
  let total = 0;
  for (let i = 0; i < sample; i++) total += Buffer.byteLength(JSON.stringify({ ...sdkEvent(i, now), messageId: randomUUID() }));
  return Math.round(total / sample);
}

/**
 * The rows Sluice's worker would store for the same events (same normalisation as the api,
 * the worker's own toEventRow), rendered as COPY text with a messageId placeholder, so the
 * baseline writes exactly the bytes the end-to-end path writes.
 */
export class CopyRowsFactory {
  private readonly template: Template;
  private n = 0;
  readonly rowsPerChunk: number;

  constructor(sourceId: string, private readonly tag: string, rows: number) {
    const now = Date.now();
    const receivedAt = new Date(now + 50).toISOString();
    const lines: string[] = [];
    for (let i = 0; i < rows; i++) {
      const e = { ...sdkEvent(i, now), sentAt: new Date(now).toISOString() };
      const row = toEventRow({ s: sourceId, t: receivedAt, ip: '127.0.0.1', r: 'bench-copy', e });
      lines.push(copyFields(row));
    }
    this.template = new Template(`${lines.join('\n')}\n`);
    this.rowsPerChunk = rows;
  }

  next(): string {
    return this.template.render(`${this.tag}-${(this.n++).toString(36)}`);
  }
}
