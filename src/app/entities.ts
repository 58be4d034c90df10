import { ApiKeyEntity } from '../auth/api-key.entity';
import { AuditLogEntity } from '../audit/audit-log.entity';
import { DeadLetterEntity } from '../processing/dead-letter.entity';
import { SourceEntity } from '../sources/source.entity';

/** Every TypeORM entity, listed explicitly (never globbed from dist/). */
export const ENTITIES = [SourceEntity, ApiKeyEntity, DeadLetterEntity, AuditLogEntity];
