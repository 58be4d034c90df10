import { Module } from '@nestjs/common';
import { RollupsRepository } from './rollups.repository';

/** Just the rollup rebuild, for the CLI (which must not start the query API's dependencies). */
@Module({ providers: [RollupsRepository], exports: [RollupsRepository] })
export class RollupsModule {}
