import { ValidateBy, ValidationOptions } from 'class-validator';

const BIGINT_MAX = 9223372036854775807n;

/** A positive bigint id as a string (a cursor): digits only, within PostgreSQL's bigint. */
export function IsBigintId(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isBigintId',
      validator: {
        validate: (v: unknown) => typeof v === 'string' && /^\d{1,19}$/.test(v) && BigInt(v) <= BIGINT_MAX,
        defaultMessage: () => '$property must be the nextCursor of a previous page (a whole number within bigint)',
      },
    },
    options,
  );
}

/** The largest value an integer DTO field may take for a `bigint` column read back into JS. */
export const PG_BIGINT_SAFE_MAX = Number.MAX_SAFE_INTEGER;
/** ... and for an `integer` column. */
export const PG_INT_MAX = 2_147_483_647;
