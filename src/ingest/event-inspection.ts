/**
 * One iterative pass over a parsed event (never recursive: a body may nest thousands of levels)
 * that checks what PostgreSQL and the rest of the pipeline need before the event is accepted:
 * - nesting no deeper than `maxDepth` (JSON.stringify, Bull and jsonb all recurse);
 * - every string and key storable as PostgreSQL text/jsonb: well-formed UTF-16 (no lone
 *   surrogate such as "\ud800") and no NUL ("\u0000");
 * - every number finite (JSON.parse turns 1e400 into Infinity, which would be stored as null);
 * and returns an upper bound of its UTF-8 JSON size, without building the string (see
 * jsonBytesUpperBound), stopping early once past `stopAbove`.
 */
export interface InspectionLimits {
  maxDepth: number;
  stopAbove: number;
}

export type InspectionProblem = 'too_deep' | 'invalid_text' | 'invalid_number';

export interface Inspection {
  upperBound: number;
  problem: InspectionProblem | null;
}

const badText = (s: string) => !s.isWellFormed() || s.includes('\u0000');

export function inspectValue(value: unknown, limits: InspectionLimits): Inspection {
  let total = 0;
  const values: unknown[] = [value];
  const depths: number[] = [1];
  while (values.length > 0) {
    const v = values.pop();
    const depth = depths.pop()!;
    if (typeof v === 'string') {
      if (badText(v)) return { upperBound: total, problem: 'invalid_text' };
      total += 2 + v.length * 6;
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) return { upperBound: total, problem: 'invalid_number' };
      total += 24;
    } else if (typeof v === 'boolean' || v === null) total += 24;
    else if (typeof v === 'object') {
      if (depth > limits.maxDepth) return { upperBound: total, problem: 'too_deep' };
      if (Array.isArray(v)) {
        total += 2 + v.length;
        for (const item of v) {
          values.push(item);
          depths.push(depth + 1);
        }
      } else {
        total += 2;
        for (const key in v as Record<string, unknown>) {
          if (badText(key)) return { upperBound: total, problem: 'invalid_text' };
          total += 4 + key.length * 6;
          values.push((v as Record<string, unknown>)[key]);
          depths.push(depth + 1);
        }
      }
    }
    if (total > limits.stopAbove) return { upperBound: total, problem: null };
  }
  return { upperBound: total, problem: null };
}

/**
 * Where the first problem is, as a path a person can find (`properties.items[3].name`, or
 * `properties (a key)`): a second, slower pass that only runs for an event already refused.
 */
export function locateProblem(value: unknown, problem: InspectionProblem, maxDepth: number): string {
  const stack: { v: unknown; path: string; depth: number }[] = [{ v: value, path: '', depth: 1 }];
  const join = (base: string, key: string) => (/^[A-Za-z_$][\w$]*$/.test(key) ? (base ? `${base}.${key}` : key) : `${base}[${JSON.stringify(key.slice(0, 40))}]`);
  while (stack.length > 0) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v === 'string' && problem === 'invalid_text' && badText(v)) return path || 'the event';
    if (typeof v === 'number' && problem === 'invalid_number' && !Number.isFinite(v)) return path || 'the event';
    if (v && typeof v === 'object') {
      if (problem === 'too_deep' && depth > maxDepth) return path || 'the event';
      if (Array.isArray(v)) v.forEach((item, i) => stack.push({ v: item, path: `${path}[${i}]`, depth: depth + 1 }));
      else
        for (const key in v as Record<string, unknown>) {
          if (problem === 'invalid_text' && badText(key)) return `a key in ${path || 'the event'}`;
          stack.push({ v: (v as Record<string, unknown>)[key], path: join(path, key), depth: depth + 1 });
        }
    }
  }
  return 'the event';
}

/**
 * An upper bound on the UTF-8 size of JSON.stringify(value), without building the string: every
 * string character counted at its worst case (6 bytes, a \uXXXX escape), numbers at 24. Stops
 * as soon as the bound passes `stopAbove`.
 */
export function jsonBytesUpperBound(value: unknown, stopAbove: number): number {
  return inspectValue(value, { maxDepth: Number.MAX_SAFE_INTEGER, stopAbove }).upperBound;
}
