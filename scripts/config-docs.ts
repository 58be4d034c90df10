// Writes docs/configuration.md from the one list of variables in src/config/environment.ts.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderConfigurationDoc } from '../src/config/config-doc';

writeFileSync(join(__dirname, '..', 'docs', 'configuration.md'), renderConfigurationDoc());
console.log('docs/configuration.md written');
