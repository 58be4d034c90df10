import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderConfigurationDoc } from './config-doc';
import { EnvironmentVariables, VARIABLES } from './environment';

describe('configuration documentation', () => {
  it('docs/configuration.md is up to date (npm run docs:config)', () => {
    expect(readFileSync(join(__dirname, '..', '..', 'docs', 'configuration.md'), 'utf8')).toBe(renderConfigurationDoc());
  });

  it('documents every validated variable, and nothing else', () => {
    const validated = Object.keys(new EnvironmentVariables()).concat('PORT', 'ADMIN_TOKEN', 'LOG_FORMAT').sort();
    expect([...new Set(validated)]).toEqual(VARIABLES.map((v) => v.name).sort());
  });
});
