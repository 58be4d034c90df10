/**
 * One iterative pass over a parsed event (never recursive: a body may nest thousands of levels)
 * that checks what PostgreSQL and the rest of the pipeline need before the event is accepted:
 * - nesting no deeper than `maxDepth` (JSON.stringify, Bull and jsonb all recurse);
 * - every string and key storable as PostgreSQL text/jsonb: well-formed UTF-16 (no lone
 *   surrogate such as "\ud800") and no NUL ("\u0000");
 * - every number finite (JSON.parse turns 1e400 into Infinity, which would be stored as null);
 * and returns an upper bound of its UTF-8 JSON size, without building the string (see
 * jsonBytesUpperBound). The pass only ends early once the value is certainly larger than
 * `stopAbove` (a lower bound of its size passed it), as the caller then refuses it whole: a
 * value that may still be accepted is always checked to its end.
 */
export interface InspectionLimits {
  maxDepth: number;
  stopAbove: number;
}

export type InspectionProblem = 'too_deep' | 'invalid_text' | 'invalid_number';

export interface Inspection {
  upperBound: number;
  problem: InspectionProblem | null;
  /** The pass stopped because the serialized value is certainly over `stopAbove` bytes. */
  exceeded: boolean;
  /** How many numbers it holds (the only JSON tokens JSON.stringify may write longer than their source). */
  numbers: number;
}

/**
 * The most bytes JSON.stringify writes for a number (`-0.0000012345678901234567`), and the most
 * a number can grow from its JSON source (`1e20` is written as 21 digits).
 */
export const MAX_NUMBER_BYTES = 25;
export const MAX_NUMBER_GROWTH = MAX_NUMBER_BYTES - 1;

const badText = (s: string) => !s.isWellFormed() || s.includes('\u0000');

export function inspectValue(value: unknown, limits: InspectionLimits): Inspection {
  // upper: every string character at its worst case (6 bytes, a \uXXXX escape), numbers at
  // MAX_NUMBER_BYTES; lower: every character at least one byte, every number one digit.
  let upper = 0;
  let lower = 0;
  let numbers = 0;
  const values: unknown[] = [value];
  const depths: number[] = [1];
  const found = (problem: InspectionProblem | null, exceeded = false): Inspection => ({ upperBound: upper, problem, exceeded, numbers });
  while (values.length > 0) {
    const v = values.pop();
    const depth = depths.pop()!;
    if (typeof v === 'string') {
      if (badText(v)) return found('invalid_text');
      upper += 2 + v.length * 6;
      lower += 2 + v.length;
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) return found('invalid_number');
      upper += MAX_NUMBER_BYTES;
      lower += 1;
      numbers++;
    } else if (typeof v === 'boolean' || v === null) {
      upper += 5;
      lower += 4;
    } else if (typeof v === 'object') {
      if (depth > limits.maxDepth) return found('too_deep');
      if (Array.isArray(v)) {
        upper += 2 + v.length;
        lower += 2;
        for (const item of v) {
          values.push(item);
          depths.push(depth + 1);
        }
      } else {
        upper += 2;
        lower += 2;
        for (const key in v as Record<string, unknown>) {
          if (badText(key)) return found('invalid_text');
          upper += 4 + key.length * 6;
          lower += 3 + key.length;
          values.push((v as Record<string, unknown>)[key]);
          depths.push(depth + 1);
        }
      }
    }
    if (lower > limits.stopAbove) return found(null, true);
  }
  return found(null);
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
 * string character counted at its worst case (6 bytes, a \uXXXX escape), numbers at 25. Stops
 * once the value is certainly larger than `stopAbove` (the bound returned is then above it too).
 */
export function jsonBytesUpperBound(value: unknown, stopAbove: number): number {
  return inspectValue(value, { maxDepth: Number.MAX_SAFE_INTEGER, stopAbove }).upperBound;
}
