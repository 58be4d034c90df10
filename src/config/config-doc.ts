import { VARIABLES } from './environment';

/** docs/configuration.md, rendered from VARIABLES (a unit test keeps the file in step). */
export function renderConfigurationDoc(): string {
  const rows = VARIABLES.map((v) => `| \`${v.name}\` | ${v.default} | ${v.description}${v.secret ? ' **Secret.**' : ''} |`);
  return [
    '# Configuration',
    '',
    'Sluice reads only environment variables, validates all of them at start-up, and stops with a',
    'message naming any variable whose value is wrong. This file is generated from',
    '`src/config/environment.ts` by `npm run docs:config`; edit that file, not this one.',
    '',
    '| variable | default | meaning |',
    '|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
