// The key lives in sessionStorage only: never in a URL, a cookie or localStorage, so closing the
// tab forgets it.
import { signal } from './signal';

const STORAGE = 'sluice.console.key';

export interface Me {
  id: string;
  keyId: string;
  kind: 'admin' | 'read' | 'write';
  sourceId: string | null;
  sourceIds: string[] | null;
  sources: { id: string; name: string }[];
}

export function storedKey(): string | null {
  try {
    return sessionStorage.getItem(STORAGE);
  } catch {
    return null;
  }
}
export function storeKey(key: string | null): void {
  try {
    if (key) sessionStorage.setItem(STORAGE, key);
    else sessionStorage.removeItem(STORAGE);
  } catch {
    // storage disabled: the key lives in memory for this page only
  }
}

/** The source the pages work on, chosen in the header (kept per tab, like the key). */
const SOURCE = 'sluice.console.source';
export const currentSource = signal<string | null>(sessionStorage.getItem(SOURCE));
currentSource.subscribe((id) => (id ? sessionStorage.setItem(SOURCE, id) : sessionStorage.removeItem(SOURCE)));
