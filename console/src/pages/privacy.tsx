// Privacy: delete a person's data (a background job with a verification record), suppress their
// future events, and export what is stored about them (NDJSON, downloaded with the key in a header).
import { useEffect, useState } from 'preact/hooks';
import { download, get, post, del } from '../api';
import { ConfirmButton, Empty, ErrorBox, Field, fmtNumber, fmtTime, Json, Loaded, RefreshButton, Section, useAction, useAsync, value } from '../components';
import { href, navigate } from '../router';
import type { Me } from '../session';
import './ops-pages.css';
import type { PageProps } from './types';

type Kind = 'userId' | 'anonymousId';
type Removed = Record<string, number>;
interface Deletion {
  id: string;
  identity: { kind: Kind; sha256: string };
  sourceIds: string[] | null;
  suppressionId: string | null;
  status: 'pending' | 'running' | 'done';
  attempts: number;
  progress: { removed?: Removed; partitionsTotal?: number; partitionsDone?: number; pass?: number; linkedAnonymousIds?: number };
  verification: Verification | null;
  lastError: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}
interface Verification {
  identity?: { kind: string; sha256: string };
  sourceIds?: string[] | null;
  linkedAnonymousIds?: number;
  removed?: Removed;
  remaining?: Removed;
  verified?: boolean;
  passes?: number;
  checkedAt?: string;
  note?: string;
  [k: string]: unknown;
}
interface Suppression {
  id: string;
  userId: string | null;
  anonymousId: string | null;
  sourceIds: string[] | null;
  createdAt: string;
  liftedAt: string | null;
}

const TABLES: Record<string, string> = {
  events: 'Events',
  event_dedup: 'Dedup claims',
  dead_letters: 'Dead letters',
  event_counts_hourly: 'Hourly counts (rows at zero)',
  event_users_daily: 'Daily active user-days',
  event_uniques_daily: 'Daily distinct-user counts lowered',
  violation_samples: 'Violation samples erased',
};
const kindLabel = (k: string) => (k === 'userId' ? 'User id' : 'Anonymous id');
const statusClass = (s: string) => (s === 'done' ? 'badge ok' : s === 'running' ? 'badge warn' : 'badge');
const sourcesText = (me: Me, ids: string[] | null) => (ids === null ? 'All sources' : ids.map((id) => me.sources.find((s) => s.id === id)?.name ?? id).join(', '));

/** sha256("<kind>:<identifier>"), as the API keeps it (null where the browser has no WebCrypto). */
async function identityHash(kind: string, id: string): Promise<string | null> {
  if (!globalThis.crypto?.subtle) return null;
  const buf = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${kind}:${id}`));
  return [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export function PrivacyPage({ me, route }: PageProps) {
  const deletionId = route.rest[0] === 'deletions' ? route.rest[1] : undefined;
  return (
    <>
      <h1>Privacy</h1>
      {deletionId ? (
        <DeletionView id={deletionId} me={me} />
      ) : (
        <>
          <DeletionsSection me={me} />
          <SuppressionsSection me={me} />
          <ExportSection me={me} />
        </>
      )}
    </>
  );
}

/** "Identify by" + the identifier, and optionally which sources. */
function Identity({ idPrefix, kind, setKind, id, setId }: { idPrefix: string; kind: Kind; setKind(k: Kind): void; id: string; setId(v: string): void }) {
  return (
    <div class="grid2">
      <Field label="Identify by">
        <select value={kind} onChange={(e) => setKind(e.currentTarget.value as Kind)} name={`${idPrefix}-kind`}>
          <option value="userId">userId</option>
          <option value="anonymousId">anonymousId</option>
        </select>
      </Field>
      <Field label={kindLabel(kind)}>
        <input value={id} onInput={value(setId)} required maxLength={1000} autocomplete="off" name={`${idPrefix}-id`} />
      </Field>
    </div>
  );
}

function SourcePicker({ me, chosen, setChosen, legend }: { me: Me; chosen: string[]; setChosen(ids: string[]): void; legend: string }) {
  if (me.sources.length === 0) return null;
  return (
    <fieldset class="ops-fieldset">
      <legend>{legend}</legend>
      <div class="ops-choices">
        {me.sources.map((s) => (
          <label key={s.id} class="ops-check">
            <input type="checkbox" checked={chosen.includes(s.id)} onChange={(e) => setChosen(e.currentTarget.checked ? [...chosen, s.id] : chosen.filter((x) => x !== s.id))} />
            {s.name}
          </label>
        ))}
      </div>
      <small class="muted">None checked: every source.</small>
    </fieldset>
  );
}

function DeletionsSection({ me }: { me: Me }) {
  const [kind, setKind] = useState<Kind>('userId');
  const [id, setId] = useState('');
  const [sources, setSources] = useState<string[]>([]);
  const [suppress, setSuppress] = useState(false);
  const list = useAsync((s) => get<Deletion[]>('v1/admin/privacy/deletions', undefined, s), []);
  const [find, setFind] = useState<{ kind: Kind; id: string; hash: string | null } | null>(null);
  const [findKind, setFindKind] = useState<Kind>('userId');
  const [findId, setFindId] = useState('');

  // Poll while a request is still pending or running.
  const busy = list.data?.some((d) => d.status !== 'done') ?? false;
  useEffect(() => {
    if (!busy || list.loading) return;
    const t = setTimeout(list.reload, 2000);
    return () => clearTimeout(t);
  }, [busy, list.loading, list.data]);

  const create = useAction(async () => {
    const body: Record<string, unknown> = { [kind]: id, suppress };
    if (sources.length) body.sourceIds = sources;
    const d = await post<Deletion>('v1/admin/privacy/deletions', body);
    navigate('privacy', ['deletions', d.id]);
  });
  const lookup = useAction(async () => setFind({ kind: findKind, id: findId, hash: await identityHash(findKind, findId) }));
  const shown = list.data && find?.hash ? list.data.filter((d) => d.identity.kind === find.kind && d.identity.sha256 === find.hash) : list.data;

  return (
    <>
      <Section title="Delete a person's data">
        <div class="ops-form" role="group" aria-label="Delete a person's data">
          <p class="muted">
            Removes their events (and, for a userId, those of the anonymousIds linked to it), dedup claims, their share of the rollups, their dead letters and violation samples, in the background; then re-checks and keeps a verification record with the identifier only as a hash.
          </p>
          <Identity idPrefix="delete" kind={kind} setKind={setKind} id={id} setId={setId} />
          <SourcePicker me={me} chosen={sources} setChosen={setSources} legend="Only these sources" />
          <label class="ops-check">
            <input type="checkbox" checked={suppress} onChange={(e) => setSuppress(e.currentTarget.checked)} />
            Also suppress them (drop their future events at ingestion) before the deletion starts
          </label>
          <ErrorBox error={create.error} />
          <div class="row">
            <ConfirmButton disabled={!id || create.busy} message={`Delete every stored event of ${kind} "${id}" (${sources.length ? `${sources.length} source(s)` : 'all sources'})? This cannot be undone.`} confirmLabel="Delete their data" onConfirm={() => void create.run()}>
              Request deletion
            </ConfirmButton>
          </div>
        </div>
      </Section>
      <Section
        title="Deletion requests"
        actions={
          <RefreshButton state={list} />
        }
      >
        <form
          class="filters"
          aria-label="Find deletion requests of a person"
          onSubmit={(e) => {
            e.preventDefault();
            void lookup.run();
          }}
        >
          <Field label="Find by">
            <select value={findKind} onChange={(e) => setFindKind(e.currentTarget.value as Kind)}>
              <option value="userId">userId</option>
              <option value="anonymousId">anonymousId</option>
            </select>
          </Field>
          <Field label="Identifier to find" hint="Requests keep only a sha256 hash: this hashes what you type to match it.">
            <input value={findId} onInput={value(setFindId)} autocomplete="off" />
          </Field>
          <div class="row">
            <button type="submit" class="secondary" disabled={!findId}>
              Find
            </button>
            {find && (
              <button type="button" class="secondary" onClick={() => setFind(null)}>
                Show all
              </button>
            )}
          </div>
        </form>
        {find && find.hash === null && <p class="warning">This browser cannot hash here (WebCrypto needs HTTPS): every request is shown.</p>}
        <ErrorBox error={lookup.error} />
        <Loaded state={list} what="Loading deletion requests">
          {() =>
            !shown || shown.length === 0 ? (
              <Empty>{find ? `No deletion request for ${find.kind} "${find.id}".` : 'No deletion request yet.'}</Empty>
            ) : (
              <div class="table-wrap">
                <table>
                  <caption class="muted">The latest 100 deletion requests, newest first</caption>
                  <thead>
                    <tr>
                      <th>Requested</th>
                      <th>Identity (sha256)</th>
                      <th>Sources</th>
                      <th>Status</th>
                      <th>Progress</th>
                      <th class="num">Events removed</th>
                      <th>Finished</th>
                    </tr>
                  </thead>
                  <tbody>
                    {shown.map((d) => (
                      <tr key={d.id}>
                        <td>
                          <a href={href('privacy', ['deletions', d.id])} aria-label={`Open deletion request of ${fmtTime(d.createdAt)}`}>
                            {fmtTime(d.createdAt)}
                          </a>
                        </td>
                        <td>
                          {d.identity.kind} <code title={d.identity.sha256}>{d.identity.sha256.slice(0, 12)}…</code>
                        </td>
                        <td>{sourcesText(me, d.sourceIds)}</td>
                        <td>
                          <span class={statusClass(d.status)}>{d.status}</span>
                          {d.status === 'done' && d.verification && (
                            <>
                              {' '}
                              <span class={d.verification.verified ? 'badge ok' : 'badge bad'}>{d.verification.verified ? 'verified' : 'not verified'}</span>
                            </>
                          )}
                        </td>
                        <td>{progressText(d)}</td>
                        <td class="num">{fmtNumber(d.progress.removed?.events ?? 0)}</td>
                        <td>{fmtTime(d.finishedAt)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )
          }
        </Loaded>
      </Section>
    </>
  );
}

function progressText(d: Deletion): string {
  if (d.status === 'done') return `done in ${d.verification?.passes ?? d.progress.pass ?? 1} pass(es)`;
  if (d.status === 'pending') return d.lastError ? `waiting to retry (attempt ${d.attempts})` : 'waiting for a worker';
  const p = d.progress;
  return p.partitionsTotal ? `pass ${p.pass ?? 1}: ${p.partitionsDone ?? 0} of ${p.partitionsTotal} partitions` : 'starting';
}

function RemovedTable({ removed, remaining, caption }: { removed: Removed; remaining?: Removed; caption: string }) {
  const keys = [...new Set([...Object.keys(TABLES), ...Object.keys(removed), ...Object.keys(remaining ?? {})])].filter((k) => k in removed || (remaining && k in remaining));
  return (
    <div class="table-wrap">
      <table>
        <caption class="muted">{caption}</caption>
        <thead>
          <tr>
            <th>Table</th>
            <th class="num">Rows removed</th>
            {remaining && <th class="num">Remaining on re-check</th>}
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => (
            <tr key={k}>
              <td>
                {TABLES[k] ?? k} <code>{k}</code>
              </td>
              <td class="num">{fmtNumber(removed[k] ?? 0)}</td>
              {remaining && <td class="num">{k in remaining ? fmtNumber(remaining[k]) : <span class="muted">not re-checked (derived)</span>}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function DeletionView({ id, me }: { id: string; me: Me }) {
  const d = useAsync((s) => get<Deletion>(`v1/admin/privacy/deletions/${id}`, undefined, s), [id]);
  const running = d.data && d.data.status !== 'done';
  useEffect(() => {
    if (!running || d.loading) return;
    const t = setTimeout(d.reload, 1000);
    return () => clearTimeout(t);
  }, [running, d.loading, d.data]);
  return (
    <>
      <p>
        <a href={href('privacy')}>← Privacy</a>
      </p>
      <Loaded state={d} what="Loading the deletion request">
        {(x) => (
          <>
            <Section title="Deletion request">
              <dl class="ops-meta">
                <dt>Status</dt>
                <dd>
                  <span class={statusClass(x.status)} role="status">
                    {x.status}
                  </span>{' '}
                  <span class="muted">{progressText(x)}</span>
                </dd>
                <dt>Identity</dt>
                <dd>
                  {x.identity.kind}, sha256 <code>{x.identity.sha256}</code>
                </dd>
                <dt>Sources</dt>
                <dd>{sourcesText(me, x.sourceIds)}</dd>
                <dt>Suppression</dt>
                <dd>{x.suppressionId ? <code>{x.suppressionId}</code> : 'none'}</dd>
                <dt>Attempts</dt>
                <dd>{x.attempts}</dd>
                <dt>Requested</dt>
                <dd>{fmtTime(x.createdAt)}</dd>
                <dt>Started</dt>
                <dd>{fmtTime(x.startedAt)}</dd>
                <dt>Finished</dt>
                <dd>{fmtTime(x.finishedAt)}</dd>
              </dl>
              {x.lastError && <p class="warning">Last attempt stopped: {x.lastError} (it is retried).</p>}
              {x.status === 'running' && x.progress.partitionsTotal ? (
                <progress class="ops-progress" max={x.progress.partitionsTotal} value={x.progress.partitionsDone ?? 0} aria-label="Partitions done in this pass" />
              ) : null}
              {x.status !== 'done' && x.progress.removed && <RemovedTable removed={x.progress.removed} caption="Removed so far" />}
            </Section>
            {x.verification && <VerificationRecord v={x.verification} me={me} />}
          </>
        )}
      </Loaded>
    </>
  );
}

function VerificationRecord({ v, me }: { v: Verification; me: Me }) {
  return (
    <section class={`card ${v.verified ? 'ops-verified' : 'ops-unverified'}`} aria-labelledby="verification-title">
      <div class="card-head">
        <h2 id="verification-title">Verification record</h2>
        <span class={v.verified ? 'badge ok' : 'badge bad'}>{v.verified ? 'Verified: nothing remains' : 'Not verified: rows remain'}</span>
      </div>
      {v.note && <p class={v.verified ? 'notice' : 'warning'}>{v.note}</p>}
      <dl class="ops-meta">
        <dt>Checked</dt>
        <dd>{fmtTime(v.checkedAt)}</dd>
        <dt>Identity</dt>
        <dd>
          {v.identity?.kind ?? '—'}, sha256 <code>{v.identity?.sha256 ?? '—'}</code>
        </dd>
        <dt>Sources</dt>
        <dd>{sourcesText(me, v.sourceIds ?? null)}</dd>
        <dt>Linked anonymousIds</dt>
        <dd>{fmtNumber(v.linkedAnonymousIds ?? 0)}</dd>
        <dt>Passes</dt>
        <dd>{fmtNumber(v.passes ?? null)}</dd>
      </dl>
      <RemovedTable removed={v.removed ?? {}} remaining={v.remaining ?? {}} caption="Per table: rows removed, and what the re-check found afterwards (0: none left)" />
      <details>
        <summary>The record as stored (JSON)</summary>
        <Json value={v} label="Verification record JSON" />
      </details>
    </section>
  );
}

function SuppressionsSection({ me }: { me: Me }) {
  const [all, setAll] = useState(false);
  const list = useAsync((s) => get<Suppression[]>('v1/admin/privacy/suppressions', { all }, s), [all]);
  const [kind, setKind] = useState<Kind>('userId');
  const [id, setId] = useState('');
  const [sources, setSources] = useState<string[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const create = useAction(async () => {
    const body: Record<string, unknown> = { [kind]: id };
    if (sources.length) body.sourceIds = sources;
    await post<Suppression>('v1/admin/privacy/suppressions', body);
    setNotice(`Suppressed ${kind} "${id}": their events are dropped at ingestion from within a few seconds.`);
    setId('');
    list.reload();
  });
  const lift = useAction(async (s: Suppression) => {
    await del<Suppression>(`v1/admin/privacy/suppressions/${s.id}`);
    setNotice(`Lifted the suppression of ${s.userId !== null ? `userId "${s.userId}"` : `anonymousId "${s.anonymousId}"`}.`);
    list.reload();
  });
  return (
    <Section title="Suppressions">
      <form
        class="ops-form"
        aria-label="Suppress a person"
        onSubmit={(e) => {
          e.preventDefault();
          void create.run();
        }}
      >
        <p class="muted">A suppressed person's future events are dropped at ingestion (neither stored nor dead-lettered), on every api within a few seconds.</p>
        <Identity idPrefix="suppress" kind={kind} setKind={setKind} id={id} setId={setId} />
        <SourcePicker me={me} chosen={sources} setChosen={setSources} legend="Only these sources" />
        <ErrorBox error={create.error} />
        <div class="row">
          <button type="submit" disabled={!id || create.busy}>
            Suppress
          </button>
        </div>
      </form>
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      <ErrorBox error={lift.error} />
      <div class="row">
        <label class="ops-check">
          <input type="checkbox" checked={all} onChange={(e) => setAll(e.currentTarget.checked)} />
          Show lifted suppressions too
        </label>
      </div>
      <Loaded state={list} what="Loading suppressions">
        {(rows) =>
          rows.length === 0 ? (
            <Empty>{all ? 'No suppression yet.' : 'No suppression in force.'}</Empty>
          ) : (
            <div class="table-wrap">
              <table>
                <caption class="muted">{all ? 'Every suppression, newest first' : 'Suppressions in force, newest first'}</caption>
                <thead>
                  <tr>
                    <th>Who</th>
                    <th>Sources</th>
                    <th>Since</th>
                    <th>Lifted</th>
                    <th>
                      <span class="muted">Action</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((s) => {
                    const who = s.userId !== null ? `userId ${s.userId}` : `anonymousId ${s.anonymousId}`;
                    return (
                      <tr key={s.id}>
                        <td>
                          <code>{who}</code>
                        </td>
                        <td>{sourcesText(me, s.sourceIds)}</td>
                        <td>{fmtTime(s.createdAt)}</td>
                        <td>{s.liftedAt ? fmtTime(s.liftedAt) : <span class="badge warn">in force</span>}</td>
                        <td>
                          {!s.liftedAt && (
                            <ConfirmButton message={`Lift the suppression of ${who}? Their events are accepted again.`} confirmLabel="Lift" onConfirm={() => void lift.run(s)}>
                              Lift
                            </ConfirmButton>
                          )}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )
        }
      </Loaded>
    </Section>
  );
}

function ExportSection({ me }: { me: Me }) {
  const [kind, setKind] = useState<Kind>('userId');
  const [id, setId] = useState('');
  const [sources, setSources] = useState<string[]>([]);
  const [done, setDone] = useState<string | null>(null);
  const run = useAction(async () => {
    setDone(null);
    const name = `export-${kind}-${id.replace(/[^\w.-]+/g, '_').slice(0, 80)}.ndjson`;
    await download('v1/admin/privacy/exports', name, { [kind]: id, sourceIds: sources.length ? sources : undefined });
    setDone(`Downloaded ${name}.`);
  });
  return (
    <Section title="Export a person's data">
      <form
        class="ops-form"
        aria-label="Export a person's data"
        onSubmit={(e) => {
          e.preventDefault();
          void run.run();
        }}
      >
        <p class="muted">Every stored event of the person as NDJSON: a header line (with the anonymousIds linked to a userId), one event per line oldest first, and an end line with the count.</p>
        <Identity idPrefix="export" kind={kind} setKind={setKind} id={id} setId={setId} />
        <SourcePicker me={me} chosen={sources} setChosen={setSources} legend="Only these sources" />
        <ErrorBox error={run.error} />
        {done && (
          <p class="notice" role="status">
            {done}
          </p>
        )}
        <div class="row">
          <button type="submit" disabled={!id || run.busy}>
            {run.busy ? 'Exporting…' : 'Download export'}
          </button>
        </div>
      </form>
    </Section>
  );
}
