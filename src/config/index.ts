export * from './app-config';
export * from './config.module';
export { ConfigValidationError, Role, ROLES, VARIABLES } from './environment';
