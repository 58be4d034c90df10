import { AuditPage } from './audit';
import { DeadLettersPage } from './dead-letters';
import { ExplorerPage } from './explorer';
import { InsightsPage } from './insights';
import { KeysPage } from './keys';
import { LivePage } from './live';
import { PlansPage } from './plans';
import { PrivacyPage } from './privacy';
import { SourcesPage } from './sources';
import type { PageDef } from './types';

/** The console's pages, in nav order; a key sees the pages of its kind. */
export const PAGES: PageDef[] = [
  { id: 'sources', title: 'Sources', kinds: ['admin', 'read'], perSource: false, component: SourcesPage },
  { id: 'live', title: 'Live debugger', kinds: ['admin', 'read'], perSource: true, component: LivePage },
  { id: 'explorer', title: 'Explorer', kinds: ['admin', 'read'], perSource: true, component: ExplorerPage },
  { id: 'insights', title: 'Insights', kinds: ['admin', 'read'], perSource: true, component: InsightsPage },
  { id: 'dead-letters', title: 'Dead letters', kinds: ['admin'], perSource: false, component: DeadLettersPage },
  { id: 'privacy', title: 'Privacy', kinds: ['admin'], perSource: false, component: PrivacyPage },
  { id: 'plans', title: 'Tracking plans', kinds: ['admin', 'read'], perSource: false, component: PlansPage },
  { id: 'keys', title: 'Keys', kinds: ['admin'], perSource: false, component: KeysPage },
  { id: 'audit', title: 'Audit log', kinds: ['admin'], perSource: false, component: AuditPage },
];
