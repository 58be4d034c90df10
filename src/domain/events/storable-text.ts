/**
 * PostgreSQL `text` refuses NUL and `jsonb` refuses lone UTF-16 surrogate escapes. The api
 * refuses such events at the door; what still has to be kept (a dead letter, an error message
 * that quotes content) is made storable here, by replacing each offending code unit with
 * U+FFFD, the Unicode replacement character.
 */
export function storableText(s: string): string {
  const wellFormed = s.isWellFormed() ? s : s.toWellFormed();
  return wellFormed.includes('\u0000') ? wellFormed.replaceAll('\u0000', '\ufffd') : wellFormed;
}

const needsFix = (s: string) => !s.isWellFormed() || s.includes('\u0000');

/**
 * JSON text of `value` that jsonb accepts: every string and key made storable. Nesting is
 * bounded by the api's MAX_EVENT_DEPTH before anything reaches a job.
 */
export function storableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'string') return needsFix(v) ? storableText(v) : v;
    if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).some(needsFix)) {
      const fixed: Record<string, unknown> = {};
      for (const [k, inner] of Object.entries(v)) Object.defineProperty(fixed, storableText(k), { value: inner, enumerable: true, writable: true, configurable: true });
      return fixed;
    }
    return v;
  });
}
