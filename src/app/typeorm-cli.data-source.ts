// Entry point for the TypeORM CLI (`npm run migration:generate`): same options as the app.
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from '../config';
import { dataSourceOptions } from '../database/data-source-options';
import { ENTITIES } from './entities';

export default new DataSource(dataSourceOptions(loadConfig(), { entities: ENTITIES, poolSize: 2, applicationName: 'sluice-cli' }));
