import type { FunctionComponent } from 'preact';
import type { Route } from '../router';
import type { Me } from '../session';

export interface PageProps {
  me: Me;
  /** The source chosen in the header (null when the key reaches none yet). */
  sourceId: string | null;
  route: Route;
  /** Call after creating or deleting a source, so the header's list follows. */
  refreshMe(): void;
}

export interface PageDef {
  id: string;
  title: string;
  /** The key kinds the page is for; the nav shows only these. */
  kinds: Me['kind'][];
  /** Works on the source chosen in the header. */
  perSource: boolean;
  component: FunctionComponent<PageProps>;
}
