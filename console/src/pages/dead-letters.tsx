// Dead letters: the events the worker could not store (or a tracking plan quarantined), to look
// at, fix, replay through ingestion again, or discard — one by one or in bulk by filter.
import { useEffect, useState } from 'preact/hooks';
import { get, post, put, type Query } from '../api';
import { ConfirmButton, CopyButton, Empty, ErrorBox, Field, fmtNumber, fmtTime, Loaded, RefreshButton, Section, SourceOptions, useAction, useAsync, value } from '../components';
import { href, navigate } from '../router';
import type { Me } from '../session';
import './ops-pages.css';
import type { PageProps } from './types';

export const REASONS: { code: string; label: string }[] = [
  { code: 'rejected_by_postgres', label: 'Rejected by PostgreSQL' },
  { code: 'retries_exhausted', label: 'Retries exhausted' },
  { code: 'worker_crash', label: 'Worker crash' },
  { code: 'enrichment_failed', label: 'Enrichment failed' },
  { code: 'schema_violation', label: 'Schema violation (quarantined by a tracking plan)' },
  { code: 'unknown', label: 'Unknown' },
];
const STATUSES = ['pending', 'replayed', 'discarded'] as const;

interface DeadLetter {
  id: string;
  sourceId: string | null;
  messageId: string | null;
  requestId: string | null;
  jobId: string | null;
  attempts: number;
  reasonCode: string;
  reason: string;
  status: 'pending' | 'replayed' | 'discarded';
  deadLetteredAt: string;
  updatedAt: string | null;
  fixedAt: string | null;
  payload: string;
}
interface DeadLetterPage {
  items: DeadLetter[];
  nextCursor: string | null;
}
interface ReplayOutcome {
  replayed: string[];
  rejected: { id: string; reason: string; message: string }[];
  skipped: string[];
}
interface Replay {
  id: string;
  status: 'running' | 'done' | 'failed';
  filter: Record<string, unknown>;
  matched: number;
  replayed: number;
  rejected: number;
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
}

/** The list's filter, as the hash holds it (#/dead-letters?reason=schema_violation&status=any). */
interface Filter {
  sourceId: string;
  reason: string;
  /** pending (the default), replayed, discarded, or any */
  status: string;
  /** datetime-local values (the user's time zone) */
  from: string;
  to: string;
  q: string;
}

function filterOf(params: URLSearchParams): Filter {
  return {
    sourceId: params.get('sourceId') ?? '',
    reason: params.get('reason') ?? '',
    status: params.get('status') ?? 'pending',
    from: params.get('from') ?? '',
    to: params.get('to') ?? '',
    q: params.get('q') ?? '',
  };
}
function paramsOf(f: Filter): Record<string, string | undefined> {
  return { sourceId: f.sourceId, reason: f.reason, status: f.status === 'pending' ? undefined : f.status, from: f.from, to: f.to, q: f.q };
}
const iso = (local: string): string | undefined => {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? local : d.toISOString();
};
/** The filter as the API's query (list) or body (bulk actions: always the pending ones). */
function listQuery(f: Filter): Query {
  return { sourceId: f.sourceId, reason: f.reason, status: f.status === 'any' ? undefined : f.status, from: iso(f.from), to: iso(f.to), q: f.q };
}
function bulkBody(f: Filter): Record<string, string> {
  const b: Record<string, string | undefined> = { sourceId: f.sourceId, reason: f.reason, from: iso(f.from), to: iso(f.to), q: f.q };
  return Object.fromEntries(Object.entries(b).filter(([, v]) => v)) as Record<string, string>;
}
const reasonLabel = (code: string) => REASONS.find((r) => r.code === code)?.label ?? code;
const sourceName = (me: Me, id: string | null) => (id ? (me.sources.find((s) => s.id === id)?.name ?? id) : '—');
const statusClass = (s: string) => (s === 'pending' ? 'badge warn' : s === 'replayed' ? 'badge ok' : 'badge');

export function DeadLettersPage({ me, route }: PageProps) {
  const filter = filterOf(route.params);
  const id = route.rest[0];
  return (
    <>
      <h1>Dead letters</h1>
      {id ? <DeadLetterView id={id} me={me} back={href('dead-letters', [], paramsOf(filter))} /> : <DeadLetterList me={me} filter={filter} />}
    </>
  );
}

function FilterForm({ me, filter }: { me: Me; filter: Filter }) {
  const [draft, setDraft] = useState<Filter>(filter);
  useEffect(() => setDraft(filter), [JSON.stringify(filter)]);
  const set = (k: keyof Filter) => (v: string) => setDraft((d) => ({ ...d, [k]: v }));
  const apply = (f: Filter) => navigate('dead-letters', [], paramsOf(f));
  return (
    <form
      class="filters"
      aria-label="Filter dead letters"
      onSubmit={(e) => {
        e.preventDefault();
        apply(draft);
      }}
    >
      <Field label="Source">
        <select value={draft.sourceId} onChange={value(set('sourceId'))}>
          <option value="">All sources</option>
          <SourceOptions sources={me.sources} />
        </select>
      </Field>
      <Field label="Reason">
        <select value={draft.reason} onChange={value(set('reason'))}>
          <option value="">Any reason</option>
          {REASONS.map((r) => (
            <option key={r.code} value={r.code}>
              {r.label}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Status">
        <select value={draft.status} onChange={value(set('status'))}>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
          <option value="any">any status</option>
        </select>
      </Field>
      <Field label="From">
        <input type="datetime-local" value={draft.from} onInput={value(set('from'))} />
      </Field>
      <Field label="To">
        <input type="datetime-local" value={draft.to} onInput={value(set('to'))} />
      </Field>
      <Field label="Payload contains">
        <input type="search" value={draft.q} onInput={value(set('q'))} placeholder="Order Completed" />
      </Field>
      <div class="row">
        <button type="submit">Apply</button>
        <button type="button" class="secondary" onClick={() => apply(filterOf(new URLSearchParams()))}>
          Reset
        </button>
      </div>
    </form>
  );
}

function OutcomeNotice({ outcome }: { outcome: ReplayOutcome }) {
  return (
    <div class={outcome.rejected.length ? 'warning' : 'notice'} role="status">
      Replayed {outcome.replayed.length}
      {outcome.skipped.length > 0 && `, skipped ${outcome.skipped.length} (not pending)`}
      {outcome.rejected.length > 0 && `, refused again ${outcome.rejected.length}:`}
      {outcome.rejected.length > 0 && (
        <ul>
          {outcome.rejected.map((r) => (
            <li key={r.id}>
              <a href={href('dead-letters', [r.id])}>#{r.id}</a> {r.reason}: {r.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A background replay: polls its progress until it stops. */
function ReplayProgress({ initial, onDone }: { initial: Replay; onDone(): void }) {
  const [r, setR] = useState<Replay>(initial);
  const [error, setError] = useState<unknown>(undefined);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const next = await get<Replay>(`v1/admin/dead-letter-replays/${initial.id}`);
        if (stopped) return;
        setR(next);
        if (next.status === 'running') timer = setTimeout(tick, 1000);
        else onDone();
      } catch (e) {
        if (!stopped) setError(e);
      }
    };
    timer = setTimeout(tick, initial.status === 'running' ? 500 : 0);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [initial.id]);
  const done = r.replayed + r.rejected;
  return (
    <div class={r.status === 'failed' ? 'warning' : 'notice'} role="status" aria-live="polite">
      <p>
        Background replay #{r.id} ({r.status}): {fmtNumber(r.replayed)} replayed, {fmtNumber(r.rejected)} refused again, of {fmtNumber(r.matched)} matching when it started.
        {r.error && ` Stopped: ${r.error}`}
      </p>
      <progress class="ops-progress" max={Math.max(1, r.matched)} value={r.status === 'running' ? done : Math.max(done, r.matched)} aria-label={`Replay #${r.id} progress`} />
      <ErrorBox error={error} />
    </div>
  );
}

function DeadLetterList({ me, filter }: { me: Me; filter: Filter }) {
  const key = JSON.stringify(filter);
  const first = useAsync((s) => get<DeadLetterPage>('v1/admin/dead-letters', listQuery(filter), s), [key]);
  const [extra, setExtra] = useState<DeadLetterPage | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [notice, setNotice] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<ReplayOutcome | null>(null);
  const [replay, setReplay] = useState<Replay | null>(null);
  useEffect(() => setExtra(null), [first.data]);
  useEffect(() => {
    setSelected(new Set());
    setNotice(null);
    setOutcome(null);
  }, [key]);

  const items = [...(first.data?.items ?? []), ...(extra?.items ?? [])];
  const next = extra ? extra.nextCursor : (first.data?.nextCursor ?? null);
  const pending = items.filter((i) => i.status === 'pending');

  const more = useAction(async () => {
    const p = await get<DeadLetterPage>('v1/admin/dead-letters', { ...listQuery(filter), cursor: next });
    setExtra({ items: [...(extra?.items ?? []), ...p.items], nextCursor: p.nextCursor });
  });
  const done = (message: string | null, o: ReplayOutcome | null = null) => {
    setNotice(message);
    setOutcome(o);
    setSelected(new Set());
    first.reload();
  };
  const replaySelected = useAction(async () => done(null, await post<ReplayOutcome>('v1/admin/dead-letters/replay', { ids: [...selected] })));
  const discardSelected = useAction(async () => {
    const r = await post<{ discarded: number }>('v1/admin/dead-letters/discard', { ids: [...selected] });
    done(`Discarded ${fmtNumber(r.discarded)} dead letter(s).`);
  });
  const replayAll = useAction(async () => {
    setReplay(await post<Replay>('v1/admin/dead-letter-replays', bulkBody(filter)));
    setNotice(null);
    setOutcome(null);
  });
  const discardAll = useAction(async () => {
    const r = await post<{ discarded: number }>('v1/admin/dead-letters/discard', bulkBody(filter));
    done(`Discarded ${fmtNumber(r.discarded)} pending dead letter(s) matching the filter.`);
  });

  const toggle = (id: string, on: boolean) =>
    setSelected((s) => {
      const n = new Set(s);
      if (on) n.add(id);
      else n.delete(id);
      return n;
    });
  const allSelected = pending.length > 0 && pending.every((i) => selected.has(i.id));

  // Counts by reason: the API has no aggregate, so this covers the rows loaded so far.
  const byReason = new Map<string, number>();
  for (const i of items) byReason.set(i.reasonCode, (byReason.get(i.reasonCode) ?? 0) + 1);
  const filterText = Object.keys(bulkBody(filter)).length ? 'matching the filter' : 'in every source (no filter)';

  return (
    <>
      <Section title="Filter">
        <FilterForm me={me} filter={filter} />
      </Section>
      <Section
        title="Dead letters"
        actions={
          <RefreshButton state={first} />
        }
      >
        {notice && (
          <p class="notice" role="status">
            {notice}
          </p>
        )}
        {outcome && <OutcomeNotice outcome={outcome} />}
        {replay && <ReplayProgress key={replay.id} initial={replay} onDone={first.reload} />}
        <ErrorBox error={replaySelected.error ?? discardSelected.error ?? replayAll.error ?? discardAll.error} />
        <div class="ops-bulk" role="group" aria-label="Bulk actions">
          <button type="button" onClick={() => void replaySelected.run()} disabled={selected.size === 0 || selected.size > 100 || replaySelected.busy}>
            Replay selected ({selected.size})
          </button>
          <ConfirmButton disabled={selected.size === 0 || selected.size > 1000} message={`Discard the ${selected.size} selected dead letter(s)? They are kept as evidence but never replayed.`} confirmLabel="Discard" onConfirm={() => void discardSelected.run()}>
            Discard selected ({selected.size})
          </ConfirmButton>
          <ConfirmButton danger={false} disabled={replayAll.busy || filter.status === 'replayed' || filter.status === 'discarded'} message={`Replay every pending dead letter ${filterText} in the background?`} confirmLabel="Replay all" onConfirm={() => void replayAll.run()}>
            Replay all matching
          </ConfirmButton>
          <ConfirmButton disabled={discardAll.busy || filter.status === 'replayed' || filter.status === 'discarded'} message={`Discard every pending dead letter ${filterText}? They are kept as evidence but never replayed.`} confirmLabel="Discard all" onConfirm={() => void discardAll.run()}>
            Discard all matching
          </ConfirmButton>
        </div>
        <p class="muted">
          Bulk actions apply to pending dead letters only. Replay selected takes up to 100; "all matching" uses the filter above (status aside).
          {selected.size > 100 && ' More than 100 selected: use "Replay all matching" with a filter instead.'}
        </p>
        <Loaded state={first} what="Loading dead letters">
          {() =>
            items.length === 0 ? (
              <Empty>No dead letter matches this filter.</Empty>
            ) : (
              <>
                <h3>By reason</h3>
                <p class="muted">Counted over the {fmtNumber(items.length)} row(s) loaded below{next ? ' (load more to count more)' : ' (every match)'}.</p>
                <ul class="ops-summary">
                  {[...byReason].map(([code, n]) => (
                    <li key={code}>
                      <a href={href('dead-letters', [], paramsOf({ ...filter, reason: code }))}>{reasonLabel(code)}</a>: {fmtNumber(n)}
                    </li>
                  ))}
                </ul>
                <div class="table-wrap">
                  <table>
                    <caption class="muted">Dead letters, newest first</caption>
                    <thead>
                      <tr>
                        <th>
                          <input type="checkbox" aria-label="Select all loaded pending dead letters" checked={allSelected} disabled={pending.length === 0} onChange={(e) => setSelected(e.currentTarget.checked ? new Set(pending.map((i) => i.id)) : new Set())} />
                        </th>
                        <th>Id</th>
                        <th>Source</th>
                        <th>Reason</th>
                        <th>Status</th>
                        <th class="num">Attempts</th>
                        <th>Dead-lettered</th>
                        <th>Payload</th>
                      </tr>
                    </thead>
                    <tbody>
                      {items.map((i) => (
                        <tr key={i.id}>
                          <td>{i.status === 'pending' && <input type="checkbox" aria-label={`Select dead letter ${i.id}`} checked={selected.has(i.id)} onChange={(e) => toggle(i.id, e.currentTarget.checked)} />}</td>
                          <td>
                            <a href={href('dead-letters', [i.id], paramsOf(filter))} aria-label={`Open dead letter ${i.id}`}>
                              #{i.id}
                            </a>
                          </td>
                          <td>{sourceName(me, i.sourceId)}</td>
                          <td>
                            <span class="badge">{i.reasonCode}</span> <span class="muted">{i.reason.slice(0, 120)}</span>
                          </td>
                          <td>
                            <span class={statusClass(i.status)}>{i.status}</span>
                          </td>
                          <td class="num">{i.attempts}</td>
                          <td>{fmtTime(i.deadLetteredAt)}</td>
                          <td>
                            <code class="ops-snippet" title={i.payload}>
                              {i.payload}
                            </code>
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
                <div class="row">
                  <span class="muted">{fmtNumber(items.length)} loaded</span>
                  {next && (
                    <button type="button" class="secondary" onClick={() => void more.run()} disabled={more.busy}>
                      {more.busy ? 'Loading…' : 'Load more'}
                    </button>
                  )}
                </div>
                <ErrorBox error={more.error} />
              </>
            )
          }
        </Loaded>
      </Section>
    </>
  );
}

/** The queued event a dead letter keeps ({s, t, r, e}); null when its text is not one. */
function eventOf(payload: string): Record<string, unknown> | null {
  try {
    const q = JSON.parse(payload) as { e?: unknown };
    return q && typeof q === 'object' && q.e && typeof q.e === 'object' ? (q.e as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function DeadLetterView({ id, me, back }: { id: string; me: Me; back: string }) {
  const dl = useAsync((s) => get<DeadLetter>(`v1/admin/dead-letters/${id}`, undefined, s), [id]);
  return (
    <>
      <p>
        <a href={back}>← All dead letters</a>
      </p>
      <Loaded state={dl} what="Loading the dead letter">
        {(d) => <DeadLetterDetail key={d.id} d={d} me={me} reload={dl.reload} />}
      </Loaded>
    </>
  );
}

function DeadLetterDetail({ d, me, reload }: { d: DeadLetter; me: Me; reload(): void }) {
  const event = eventOf(d.payload);
  const [text, setText] = useState(event ? JSON.stringify(event, null, 2) : '');
  const [parseError, setParseError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<ReplayOutcome | null>(null);
  const fix = useAction(async () => {
    setNotice(null);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      setParseError(`This is not valid JSON: ${(e as Error).message}`);
      return;
    }
    setParseError(null);
    await put<DeadLetter>(`v1/admin/dead-letters/${d.id}/event`, { event: parsed });
    setNotice('Fix saved. Replay it to send it through ingestion again.');
    reload();
  });
  const replay = useAction(async () => {
    setOutcome(await post<ReplayOutcome>(`v1/admin/dead-letters/${d.id}/replay`));
    reload();
  });
  const discard = useAction(async () => {
    await post<DeadLetter>(`v1/admin/dead-letters/${d.id}/discard`);
    setNotice('Discarded: kept as evidence, never replayed.');
    reload();
  });

  return (
    <>
      <Section
        title={`Dead letter #${d.id}`}
        actions={
          d.status === 'pending' && (
            <>
              <button type="button" onClick={() => void replay.run()} disabled={replay.busy}>
                {replay.busy ? 'Replaying…' : 'Replay'}
              </button>
              <ConfirmButton message={`Discard dead letter #${d.id}? It is kept as evidence but never replayed.`} confirmLabel="Discard" onConfirm={() => void discard.run()}>
                Discard
              </ConfirmButton>
            </>
          )
        }
      >
        {notice && (
          <p class="notice" role="status">
            {notice}
          </p>
        )}
        {outcome && <OutcomeNotice outcome={outcome} />}
        <ErrorBox error={replay.error ?? discard.error} />
        <dl class="ops-meta">
          <dt>Status</dt>
          <dd>
            <span class={statusClass(d.status)}>{d.status}</span>
          </dd>
          <dt>Reason</dt>
          <dd>
            <span class="badge">{d.reasonCode}</span> {d.reason}
          </dd>
          <dt>Source</dt>
          <dd>{sourceName(me, d.sourceId)}</dd>
          <dt>Message id</dt>
          <dd>
            <code>{d.messageId ?? '—'}</code>
          </dd>
          <dt>Request id</dt>
          <dd>
            <code>{d.requestId ?? '—'}</code>
          </dd>
          <dt>Job</dt>
          <dd>
            <code>{d.jobId ?? '—'}</code>
          </dd>
          <dt>Attempts</dt>
          <dd>{d.attempts}</dd>
          <dt>Dead-lettered</dt>
          <dd>{fmtTime(d.deadLetteredAt)}</dd>
          <dt>Updated</dt>
          <dd>{fmtTime(d.updatedAt)}</dd>
          <dt>Fixed</dt>
          <dd>{fmtTime(d.fixedAt)}</dd>
        </dl>
      </Section>
      {d.status === 'pending' && (
        <Section title="Edit and fix">
          {event ? (
            <form
              class="ops-form"
              onSubmit={(e) => {
                e.preventDefault();
                void fix.run();
              }}
            >
              <Field label="Event JSON" hint="Checked exactly as ingestion checks an event; its messageId stays the dead letter's unless you set one.">
                <textarea rows={16} value={text} onInput={value(setText)} spellcheck={false} />
              </Field>
              {parseError && (
                <p class="error" role="alert">
                  {parseError}
                </p>
              )}
              <ErrorBox error={fix.error} />
              <div class="row">
                <button type="submit" disabled={fix.busy}>
                  {fix.busy ? 'Saving…' : 'Save fix'}
                </button>
                <button type="button" class="secondary" onClick={() => setText(JSON.stringify(event, null, 2))}>
                  Revert to stored
                </button>
              </div>
            </form>
          ) : (
            <p class="warning">This dead letter holds no queued event (its payload is not one): it can only be discarded.</p>
          )}
        </Section>
      )}
      <Section title="Original payload" actions={<CopyButton text={d.payload} label="Copy payload" />}>
        <p class="muted">As stored, byte for byte: the queued event (source, receive time, request id and the event).</p>
        <pre class="json" tabIndex={0} aria-label="Original payload">
          {d.payload}
        </pre>
      </Section>
    </>
  );
}
