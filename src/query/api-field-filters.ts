import { applyDecorators } from '@nestjs/common';
import { ApiBadRequestResponse, ApiQuery } from '@nestjs/swagger';
import { MAX_FIELD_FILTERS } from './event-filters';

/** OpenAPI for the `properties.<name>` / `context.<path>` equality filters (free-form parameter names). */
export const ApiFieldFilters = () =>
  applyDecorators(
    ApiQuery({
      name: 'properties.<name>',
      required: false,
      description: `Equality on a top-level property, compared as text (e.g. \`properties.plan=pro\`, \`properties.revenue=42\`). Repeatable; every filter is ANDed; at most ${MAX_FIELD_FILTERS} with context.* ones.`,
      example: 'pro',
    }),
    ApiQuery({
      name: 'context.<path>',
      required: false,
      description: 'Equality on a context field, nested names joined by dots (e.g. `context.library.name=analytics.js`, at most 4 names).',
      example: 'analytics.js',
    }),
    ApiBadRequestResponse({ description: 'A parameter is invalid; the body names it (`field`) and says why (`reason`)' }),
  );
