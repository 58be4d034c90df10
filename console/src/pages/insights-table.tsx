import type { ComponentChildren } from 'preact';

/**
 * A table's scrolling box: on a phone (or in a capped height) it scrolls, so it is a labelled
 * region that takes focus, and arrow keys scroll it.
 */
export function TableWrap({ label, children, tall }: { label: string; children: ComponentChildren; tall?: boolean }) {
  return (
    <div class={tall ? 'table-wrap scroll-y' : 'table-wrap'} role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}
