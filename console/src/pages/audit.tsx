// Audit log (admin key): every admin action, newest first, filtered by time, action, actor and
// target (kept in the URL, so a filtered view can be linked), a page at a time ("Load more").
import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { get } from '../api';
import { Empty, ErrorBox, Field, fmtTime, Json, Loaded, RefreshButton, Section, useAction, useAsync, value } from '../components';
import { href, navigate } from '../router';
import './admin-pages.css';
import type { PageProps } from './types';

/** AuditEntryDto (src/audit/audit.dto.ts). */
interface AuditEntry {
  id: string;
  at: string;
  actorType: 'admin_key' | 'admin_token' | 'cli';
  actorKeyId: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  ip: string | null;
  requestId: string | null;
  change: Record<string, unknown>;
}
interface AuditPageDto {
  items: AuditEntry[];
  nextCursor: string | null;
}

/** The actions the API records (the filter takes any text; these are suggestions). */
const ACTIONS = [
  'source.create',
  'source.update',
  'source.delete',
  'key.create',
  'key.rotate',
  'key.revoke',
  'dead_letter.fix',
  'dead_letter.replay',
  'dead_letter.replay_all',
  'dead_letter.discard',
  'privacy.suppress',
  'privacy.lift_suppression',
  'privacy.export',
  'privacy.delete',
  'tracking_plan.create',
  'tracking_plan.update',
  'tracking_plan.version',
  'tracking_plan.attach',
  'tracking_plan.detach',
  'tracking_plan.delete',
];

const FILTERS = ['from', 'to', 'action', 'actor', 'target'] as const;
type Filters = Record<(typeof FILTERS)[number], string>;

const PAGE_SIZE = 50;

function filtersOf(params: URLSearchParams): Filters {
  return Object.fromEntries(FILTERS.map((f) => [f, params.get(f) ?? ''])) as Filters;
}

/** A datetime-local value (local time, no zone) as the ISO instant the API takes; anything else as typed. */
function toIso(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? local : d.toISOString();
}

function queryOf(f: Filters, cursor?: string) {
  return { from: toIso(f.from), to: toIso(f.to), action: f.action.trim(), actor: f.actor.trim(), target: f.target.trim(), limit: PAGE_SIZE, cursor };
}

export function AuditPage({ route }: PageProps) {
  const applied = filtersOf(route.params);
  const qs = FILTERS.map((f) => applied[f]).join('\u0000');
  const [form, setForm] = useState<Filters>(applied);
  const first = useAsync((signal) => get<AuditPageDto>('v1/admin/audit', queryOf(applied), signal), [qs]);
  // Pages loaded with "Load more", for the filters they were loaded with.
  const [more, setMore] = useState<{ qs: string; items: AuditEntry[]; next: string | null } | null>(null);
  const [open, setOpen] = useState<Set<string>>(new Set());
  // A filter link or the back button changes the URL: the form follows.
  useEffect(() => setForm(filtersOf(route.params)), [qs]);

  const extra = more?.qs === qs ? more : null;
  const next = extra ? extra.next : (first.data?.nextCursor ?? null);
  const loadMore = useAction(async () => {
    if (!next) return;
    const page = await get<AuditPageDto>('v1/admin/audit', queryOf(applied, next));
    setMore({ qs, items: [...(extra?.items ?? []), ...page.items], next: page.nextCursor });
  });

  const apply = (f: Filters) => navigate('audit', [], f);
  const set = (k: keyof Filters) => value((v) => setForm((f) => ({ ...f, [k]: v })));
  const toggle = (id: string) =>
    setOpen((o) => {
      const n = new Set(o);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });
  const filterLink = (k: keyof Filters, v: string) => href('audit', [], { ...applied, [k]: v });
  const active = FILTERS.some((f) => applied[f]);

  return (
    <>
      <h1>Audit log</h1>
      <p class="muted">Every change made with an admin key, the bootstrap token or the CLI, newest first: who, what, on which source or key, and from where.</p>
      <Section title="Filters">
        <form
          class="filters"
          onSubmit={(e) => {
            e.preventDefault();
            apply(form);
          }}
        >
          <Field label="From (inclusive)">
            <input type="datetime-local" value={form.from} onInput={set('from')} />
          </Field>
          <Field label="To (exclusive)">
            <input type="datetime-local" value={form.to} onInput={set('to')} />
          </Field>
          <Field label="Action">
            <input value={form.action} onInput={set('action')} list="audit-actions" placeholder="key.revoke" autocomplete="off" />
          </Field>
          <Field label="Actor" hint="Key id, admin_token or cli">
            <input value={form.actor} onInput={set('actor')} placeholder="a1B2c3D4" autocomplete="off" />
          </Field>
          <Field label="Target" hint="A source or key id">
            <input value={form.target} onInput={set('target')} autocomplete="off" />
          </Field>
          <div class="row">
            <button type="submit">Apply filters</button>
            <button
              type="button"
              class="secondary"
              disabled={!active && !FILTERS.some((f) => form[f])}
              onClick={() => {
                const empty = filtersOf(new URLSearchParams());
                setForm(empty);
                apply(empty);
              }}
            >
              Clear
            </button>
          </div>
          <datalist id="audit-actions">
            {ACTIONS.map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
        </form>
      </Section>
      <Section
        title="Entries"
        actions={
          <RefreshButton state={first} />
        }
      >
        <Loaded state={first} what="Loading the audit log">
          {(page) => {
            const items = [...page.items, ...(extra?.items ?? [])];
            if (items.length === 0) return <Empty>{active ? 'No entry matches these filters.' : 'No admin action recorded yet.'}</Empty>;
            return (
              <>
                <div class="table-wrap">
                  <table>
                    <caption class="visually-hidden">Audit log entries, newest first</caption>
                    <thead>
                      <tr>
                        <th scope="col">Time</th>
                        <th scope="col">Action</th>
                        <th scope="col">Actor</th>
                        <th scope="col">Target</th>
                        <th scope="col">IP and request id</th>
                        <th scope="col">Details</th>
                      </tr>
                    </thead>
                    <tbody>
                      {items.map((e) => {
                        const actor = e.actorType === 'admin_key' && e.actorKeyId ? e.actorKeyId : e.actorType;
                        const isOpen = open.has(e.id);
                        return (
                          <Fragment key={e.id}>
                            <tr>
                              <td>
                                <time class="when" dateTime={e.at}>
                                  {fmtTime(e.at)}
                                </time>
                              </td>
                              <td>
                                <a href={filterLink('action', e.action)} title={`Only ${e.action}`}>
                                  {e.action}
                                </a>
                              </td>
                              <td>
                                {e.actorType === 'admin_key' && <span class="muted">admin key </span>}
                                <a href={filterLink('actor', actor)} title={`Only actions by ${actor}`}>
                                  <code>{actor}</code>
                                </a>
                              </td>
                              <td>
                                <span class="muted">{e.targetType} </span>
                                {e.targetId ? (
                                  <a href={filterLink('target', e.targetId)} title={`Only actions on ${e.targetId}`}>
                                    <code>{e.targetId}</code>
                                  </a>
                                ) : (
                                  '—'
                                )}
                              </td>
                              <td>
                                {e.ip ?? '—'}
                                {e.requestId && <div class="muted mono">{e.requestId}</div>}
                              </td>
                              <td>
                                <button type="button" class="secondary" aria-expanded={isOpen} aria-controls={`audit-${e.id}`} aria-label={`Details of ${e.action} at ${fmtTime(e.at)}`} onClick={() => toggle(e.id)}>
                                  Details
                                </button>
                              </td>
                            </tr>
                            {isOpen && (
                              <tr id={`audit-${e.id}`} class="audit-details">
                                <td colSpan={6}>
                                  <Json value={e} label={`Details of audit entry ${e.id}`} />
                                </td>
                              </tr>
                            )}
                          </Fragment>
                        );
                      })}
                    </tbody>
                  </table>
                </div>
                <div class="row load-more">
                  <span class="muted" role="status">
                    {items.length} entr{items.length === 1 ? 'y' : 'ies'}
                    {next ? ', more below' : ', the end of the log'}
                  </span>
                  {next && (
                    <button type="button" onClick={() => void loadMore.run()} disabled={loadMore.busy}>
                      {loadMore.busy ? 'Loading…' : 'Load more'}
                    </button>
                  )}
                </div>
                <ErrorBox error={loadMore.error} />
              </>
            );
          }}
        </Loaded>
      </Section>
    </>
  );
}
