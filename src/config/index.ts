export * from './app-config';
export * from './config.module';
export { ConfigValidationError, ROLES, VARIABLES } from './environment';
export type { Role } from './environment';
