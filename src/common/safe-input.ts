import { ArgumentMetadata, BadRequestException, Injectable, ValidationPipe } from '@nestjs/common';
import type { ValidationPipeOptions } from '@nestjs/common';

/**
 * The one rule for every value that reaches PostgreSQL through the admin and query APIs, applied
 * to every body, query and path parameter before class-validator sees it:
 * - strings and keys: well-formed UTF-16 (no lone surrogate), no NUL, at most MAX_STRING
 *   characters (PostgreSQL `text` refuses the first two, and long ones are never meant);
 * - nesting at most MAX_DEPTH;
 * and, after the DTO is built, every number an integer-safe finite value and every date within
 * PostgreSQL's range (years 0001 to 9999). Columns narrower than bigint bound their fields with
 * @Max in the DTO. Anything else is a 400 that names the field.
 */
export const MAX_STRING = 10_000;
export const MAX_DEPTH = 16;
const MIN_DATE = Date.parse('0001-01-01T00:00:00.000Z');
const MAX_DATE = Date.parse('9999-12-31T23:59:59.999Z');

const pathJoin = (base: string, key: string | number) =>
  typeof key === 'number' ? `${base}[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key.slice(0, 40))}]`;

function textProblem(s: string): string | null {
  if (s.includes('\u0000')) return 'contains a NUL character (\\u0000)';
  if (!s.isWellFormed()) return 'contains a lone UTF-16 surrogate (not valid Unicode text)';
  if (s.length > MAX_STRING) return `is longer than ${MAX_STRING} characters`;
  return null;
}

/** Throws a 400 naming the first unsafe string, key or nesting in `value`. */
export function assertSafeInput(value: unknown, where: string): void {
  const stack: { v: unknown; path: string; depth: number }[] = [{ v: value, path: where, depth: 0 }];
  while (stack.length > 0) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v === 'string') {
      const problem = textProblem(v);
      if (problem) throw new BadRequestException({ message: `${path} ${problem}.`, reason: 'invalid_text', field: path });
    } else if (v && typeof v === 'object') {
      if (depth >= MAX_DEPTH) throw new BadRequestException({ message: `${path} nests deeper than ${MAX_DEPTH} levels.`, reason: 'too_deep', field: path });
      if (Array.isArray(v)) v.forEach((item, i) => stack.push({ v: item, path: pathJoin(path, i), depth: depth + 1 }));
      else
        for (const key of Object.keys(v)) {
          const problem = textProblem(key);
          if (problem) throw new BadRequestException({ message: `a key in ${path} ${problem}.`, reason: 'invalid_text', field: path });
          stack.push({ v: (v as Record<string, unknown>)[key], path: pathJoin(path, key), depth: depth + 1 });
        }
    }
  }
}

/** Numbers and dates of a built DTO within what the database can hold. */
export function assertStorableValues(value: unknown, where: string): void {
  const stack: { v: unknown; path: string; depth: number }[] = [{ v: value, path: where, depth: 0 }];
  while (stack.length > 0) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v === 'number' && (!Number.isFinite(v) || Math.abs(v) > Number.MAX_SAFE_INTEGER)) {
      throw new BadRequestException({ message: `${path} is out of range (at most ${Number.MAX_SAFE_INTEGER} in magnitude).`, reason: 'out_of_range', field: path });
    }
    if (v instanceof Date) {
      const t = v.getTime();
      if (!(t >= MIN_DATE && t <= MAX_DATE)) throw new BadRequestException({ message: `${path} must be a date between the years 0001 and 9999.`, reason: 'out_of_range', field: path });
    } else if (v && typeof v === 'object' && depth < MAX_DEPTH) {
      for (const [k, inner] of Object.entries(v)) stack.push({ v: inner, path: pathJoin(path, Array.isArray(v) ? Number(k) : k), depth: depth + 1 });
    }
  }
}

/**
 * class-validator's ValidationPipe with the rule above around it. Every admin and query route
 * gets it through KeyProtected.
 */
@Injectable()
export class SafeValidationPipe extends ValidationPipe {
  constructor(options?: ValidationPipeOptions) {
    super(options);
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'custom') return value;
    const where = metadata.type === 'body' ? 'body' : metadata.data ?? metadata.type;
    assertSafeInput(value, where);
    const result = await super.transform(value, metadata);
    assertStorableValues(result, where);
    return result;
  }
}
