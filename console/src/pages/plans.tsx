// Tracking plans: what events a source should send (JSON Schema per event), the sources that
// follow a plan and what happens to violations, and the violations report per source. Read keys
// see the report (and the dry run) of their sources; admin keys manage plans.
import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, del, get, patch, post, put } from '../api';
import { ConfirmButton, Empty, ErrorBox, Field, fmtNumber, fmtTime, Json, Loaded, RefreshButton, Section, SourceOptions, useAction, useAsync, value } from '../components';
import { href, navigate } from '../router';
import type { Me } from '../session';
import './ops-pages.css';
import type { PageProps } from './types';

const ACTIONS = ['allow', 'flag', 'quarantine', 'drop'] as const;
const ACTION_HELP: Record<string, string> = {
  allow: 'store as is, count it',
  flag: 'store with the violations in the event',
  quarantine: 'store in the dead letters (schema_violation) to fix and replay',
  drop: 'store nothing, count it',
};
const STARTER = '{\n  "allowUnplanned": true,\n  "rules": []\n}';
const RULES_HINT = 'JSON: {"allowUnplanned": boolean, "common"?: JSON Schema, "rules": [{"type": "track", "event": "Order Completed", "properties": {JSON Schema}}, {"type": "identify", "traits": {…}}]}';

interface Plan {
  id: string;
  name: string;
  description: string | null;
  latestVersion: number;
  sources: string[];
  createdAt: string;
  updatedAt: string;
  versions?: PlanVersion[];
}
interface PlanVersion {
  version: number;
  rules: Record<string, unknown>;
  createdAt: string;
  createdBy: string | null;
}
interface Attachment {
  sourceId: string;
  planId: string;
  version: number | null;
  onUnplanned: string;
  onViolation: string;
  updatedAt: string;
}
interface ViolationGroup {
  eventType: string;
  event: string;
  type: string;
  keyword: string;
  instancePath: string;
  action: string;
  count: number;
  message: string;
  sample: unknown;
  firstSeen: string;
  lastSeen: string;
}
interface ValidateResult {
  plan: string;
  valid: number;
  invalid: number;
  events: { index: number; outcome: string; violations: { type: string; keyword: string; instancePath: string; message: string }[]; reason?: string; message?: string }[];
}

const sourceName = (me: Me, id: string) => me.sources.find((s) => s.id === id)?.name ?? id;
/** The text of a JSON textarea, or a message saying why it is not JSON. */
function parseJson(text: string, what: string): { ok: true; value: Record<string, unknown> } | { ok: false; message: string } {
  try {
    const v = JSON.parse(text) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) return { ok: false, message: `${what} must be a JSON object.` };
    return { ok: true, value: v as Record<string, unknown> };
  } catch (e) {
    return { ok: false, message: `${what} is not valid JSON: ${(e as Error).message}` };
  }
}
const localInput = (d: Date) => {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
};
const isoOf = (local: string) => {
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? local : d.toISOString();
};

export function PlansPage({ me, route }: PageProps) {
  const admin = me.kind === 'admin';
  const planId = admin ? route.rest[0] : undefined;
  return (
    <>
      <h1>Tracking plans</h1>
      {planId ? (
        <PlanView id={planId} me={me} />
      ) : (
        <>
          {admin && <PlansAdmin me={me} />}
          <ViolationsSection me={me} initialSource={route.params.get('source')} />
          <DryRunSection me={me} />
        </>
      )}
    </>
  );
}

function PlansAdmin({ me }: { me: Me }) {
  const plans = useAsync((s) => get<Plan[]>('v1/admin/tracking-plans', undefined, s), []);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [rules, setRules] = useState(STARTER);
  const [localError, setLocalError] = useState<string | null>(null);
  const create = useAction(async () => {
    const r = parseJson(rules, 'The rules');
    if (!r.ok) return setLocalError(r.message);
    setLocalError(null);
    const p = await post<Plan>('v1/admin/tracking-plans', { name, description: description || undefined, rules: r.value });
    navigate('plans', [p.id]);
  });

  return (
    <>
      <Section
        title="Plans"
        actions={
          <RefreshButton state={plans} />
        }
      >
        <Loaded state={plans} what="Loading tracking plans">
          {(list) =>
            list.length === 0 ? (
              <Empty>No tracking plan yet: create one below, import one from Segment or RudderStack, or infer a draft from a source's events.</Empty>
            ) : (
              <div class="table-wrap">
                <table>
                  <caption class="muted">Tracking plans, newest first</caption>
                  <thead>
                    <tr>
                      <th>Name</th>
                      <th class="num">Latest version</th>
                      <th>Followed by</th>
                      <th>Updated</th>
                    </tr>
                  </thead>
                  <tbody>
                    {list.map((p) => (
                      <tr key={p.id}>
                        <td>
                          <a href={href('plans', [p.id])}>{p.name}</a>
                          {p.description && <div class="muted">{p.description}</div>}
                        </td>
                        <td class="num">v{p.latestVersion}</td>
                        <td>{p.sources.length ? p.sources.map((s) => sourceName(me, s)).join(', ') : <span class="muted">no source</span>}</td>
                        <td>{fmtTime(p.updatedAt)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )
          }
        </Loaded>
      </Section>
      <Section title="Create a plan">
        <form
          class="ops-form"
          aria-label="Create a tracking plan"
          onSubmit={(e) => {
            e.preventDefault();
            void create.run();
          }}
        >
          <div class="grid2">
            <Field label="Plan name">
              <input value={name} onInput={value(setName)} required maxLength={200} />
            </Field>
            <Field label="Description">
              <input value={description} onInput={value(setDescription)} maxLength={2000} />
            </Field>
          </div>
          <Field label="Rules (JSON)" hint={RULES_HINT}>
            <textarea rows={12} value={rules} onInput={value(setRules)} spellcheck={false} />
          </Field>
          {localError && (
            <p class="error" role="alert">
              {localError}
            </p>
          )}
          <ErrorBox error={create.error} />
          <div class="row">
            <button type="submit" disabled={create.busy || !name.trim()}>
              Create plan
            </button>
          </div>
        </form>
      </Section>
      <ImportSection />
      <InferSection me={me} onUse={(r) => setRules(JSON.stringify(r, null, 2))} />
    </>
  );
}

function ImportSection() {
  const [format, setFormat] = useState<'segment' | 'rudderstack'>('segment');
  const [name, setName] = useState('');
  const [doc, setDoc] = useState('');
  const [localError, setLocalError] = useState<string | null>(null);
  const run = useAction(async () => {
    const r = parseJson(doc, 'The exported plan');
    if (!r.ok) return setLocalError(r.message);
    setLocalError(null);
    const p = await post<Plan>('v1/admin/tracking-plans/import', { format, name: name || undefined, plan: r.value });
    navigate('plans', [p.id]);
  });
  return (
    <Section title="Import from Segment or RudderStack">
      <form
        class="ops-form"
        aria-label="Import a tracking plan"
        onSubmit={(e) => {
          e.preventDefault();
          void run.run();
        }}
      >
        <div class="grid2">
          <Field label="Format">
            <select value={format} onChange={(e) => setFormat(e.currentTarget.value as 'segment' | 'rudderstack')}>
              <option value="segment">Segment Protocols (Public API rules or Config API document)</option>
              <option value="rudderstack">RudderStack (Data Catalog plan, format=schema)</option>
            </select>
          </Field>
          <Field label="Name of the new plan" hint="Default: the name in the document">
            <input value={name} onInput={value(setName)} maxLength={200} />
          </Field>
        </div>
        <Field label="Exported plan (JSON)">
          <textarea rows={8} value={doc} onInput={value(setDoc)} spellcheck={false} />
        </Field>
        {localError && (
          <p class="error" role="alert">
            {localError}
          </p>
        )}
        <ErrorBox error={run.error} />
        <div class="row">
          <button type="submit" disabled={run.busy || !doc.trim()}>
            Import
          </button>
        </div>
      </form>
    </Section>
  );
}

function InferSection({ me, onUse }: { me: Me; onUse(rules: Record<string, unknown>): void }) {
  const [sourceId, setSourceId] = useState(me.sources[0]?.id ?? '');
  const [from, setFrom] = useState(() => localInput(new Date(Date.now() - 7 * 86_400_000)));
  const [to, setTo] = useState(() => localInput(new Date(Date.now() + 3_600_000)));
  const [result, setResult] = useState<{ rules: Record<string, unknown>; events: number } | null>(null);
  const run = useAction(async () => setResult(await post<{ rules: Record<string, unknown>; events: number }>('v1/admin/tracking-plans/infer', { sourceId, from: isoOf(from), to: isoOf(to) })));
  if (me.sources.length === 0) return null;
  return (
    <Section title="Infer a draft from a source's events">
      <form
        class="filters"
        aria-label="Infer a tracking plan"
        onSubmit={(e) => {
          e.preventDefault();
          void run.run();
        }}
      >
        <Field label="Source to infer from">
          <select value={sourceId} onChange={value(setSourceId)}>
            <SourceOptions sources={me.sources} />
          </select>
        </Field>
        <Field label="Events from">
          <input type="datetime-local" value={from} onInput={value(setFrom)} required />
        </Field>
        <Field label="Events to">
          <input type="datetime-local" value={to} onInput={value(setTo)} required />
        </Field>
        <button type="submit" disabled={run.busy}>
          {run.busy ? 'Reading events…' : 'Infer draft'}
        </button>
      </form>
      <ErrorBox error={run.error} />
      {result && (
        <>
          <p class="notice" role="status">
            Draft from {fmtNumber(result.events)} event(s). Nothing is saved until you create a plan with it.
          </p>
          <Json value={result.rules} label="Inferred rules" />
          <button type="button" onClick={() => onUse(result.rules)}>
            Use as the rules of a new plan
          </button>
        </>
      )}
    </Section>
  );
}

function PlanView({ id, me }: { id: string; me: Me }) {
  const plan = useAsync((s) => get<Plan>(`v1/admin/tracking-plans/${id}`, undefined, s), [id]);
  return (
    <>
      <p>
        <a href={href('plans')}>← All tracking plans</a>
      </p>
      <Loaded state={plan} what="Loading the plan">
        {(p) => <PlanDetail p={p} me={me} reload={plan.reload} />}
      </Loaded>
    </>
  );
}

function PlanDetail({ p, me, reload }: { p: Plan; me: Me; reload(): void }) {
  const versions = p.versions ?? [];
  const latest = versions.find((v) => v.version === p.latestVersion) ?? versions[0];
  const [open, setOpen] = useState<number | null>(null);
  const [rules, setRules] = useState(latest ? JSON.stringify(latest.rules, null, 2) : STARTER);
  const [localError, setLocalError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [name, setName] = useState(p.name);
  const [description, setDescription] = useState(p.description ?? '');

  const addVersion = useAction(async () => {
    const r = parseJson(rules, 'The rules');
    if (!r.ok) return setLocalError(r.message);
    setLocalError(null);
    const v = await post<PlanVersion>(`v1/admin/tracking-plans/${p.id}/versions`, { rules: r.value });
    setNotice(`Version ${v.version} added: sources following the latest version use it now.`);
    reload();
  });
  const rename = useAction(async () => {
    await patch<Plan>(`v1/admin/tracking-plans/${p.id}`, { name, description: description || null });
    setNotice('Saved.');
    reload();
  });
  const remove = useAction(async () => {
    await del(`v1/admin/tracking-plans/${p.id}`);
    navigate('plans');
  });

  return (
    <>
      <Section
        title={`Plan: ${p.name}`}
        actions={
          <ConfirmButton message={`Delete the plan "${p.name}" and its versions?`} confirmLabel="Delete plan" onConfirm={() => void remove.run()}>
            Delete plan
          </ConfirmButton>
        }
      >
        {notice && (
          <p class="notice" role="status">
            {notice}
          </p>
        )}
        <ErrorBox error={remove.error} />
        <dl class="ops-meta">
          <dt>Latest version</dt>
          <dd>v{p.latestVersion}</dd>
          <dt>Followed by</dt>
          <dd>{p.sources.length ? p.sources.map((s) => sourceName(me, s)).join(', ') : 'no source'}</dd>
          <dt>Created</dt>
          <dd>{fmtTime(p.createdAt)}</dd>
          <dt>Updated</dt>
          <dd>{fmtTime(p.updatedAt)}</dd>
        </dl>
        <form
          class="filters"
          aria-label="Rename the plan"
          onSubmit={(e) => {
            e.preventDefault();
            void rename.run();
          }}
        >
          <Field label="Name">
            <input value={name} onInput={value(setName)} required maxLength={200} />
          </Field>
          <Field label="Description">
            <input value={description} onInput={value(setDescription)} maxLength={2000} />
          </Field>
          <button type="submit" class="secondary" disabled={rename.busy}>
            Save name
          </button>
        </form>
        <ErrorBox error={rename.error} />
      </Section>

      <Section title="Versions">
        <div class="table-wrap">
          <table>
            <caption class="muted">Versions are immutable, newest first</caption>
            <thead>
              <tr>
                <th>Version</th>
                <th class="num">Rules</th>
                <th>Created</th>
                <th>By</th>
                <th>
                  <span class="muted">Rules JSON</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {versions.map((v) => {
                const n = Array.isArray((v.rules as { rules?: unknown }).rules) ? ((v.rules as { rules: unknown[] }).rules.length) : 0;
                return (
                  <Fragment key={v.version}>
                    <tr>
                      <td>v{v.version}</td>
                      <td class="num">{n}</td>
                      <td>{fmtTime(v.createdAt)}</td>
                      <td>
                        <code>{v.createdBy ?? '—'}</code>
                      </td>
                      <td>
                        <button type="button" class="link" aria-expanded={open === v.version} aria-controls={`rules-v${v.version}`} onClick={() => setOpen(open === v.version ? null : v.version)}>
                          {open === v.version ? 'Hide' : 'View'} rules of v{v.version}
                        </button>
                      </td>
                    </tr>
                    {open === v.version && (
                      <tr class="ops-sample" id={`rules-v${v.version}`}>
                        <td colSpan={5}>
                          <Json value={v.rules} label={`Rules of version ${v.version}`} />
                          <button type="button" class="secondary" onClick={() => setRules(JSON.stringify(v.rules, null, 2))}>
                            Start a new version from v{v.version}
                          </button>
                        </td>
                      </tr>
                    )}
                  </Fragment>
                );
              })}
            </tbody>
          </table>
        </div>
      </Section>

      <Section title="Add a version">
        <form
          class="ops-form"
          aria-label="Add a version"
          onSubmit={(e) => {
            e.preventDefault();
            void addVersion.run();
          }}
        >
          <Field label="Rules of the new version (JSON)" hint={RULES_HINT}>
            <textarea rows={14} value={rules} onInput={value(setRules)} spellcheck={false} />
          </Field>
          {localError && (
            <p class="error" role="alert">
              {localError}
            </p>
          )}
          <ErrorBox error={addVersion.error} />
          <div class="row">
            <button type="submit" disabled={addVersion.busy}>
              Add version
            </button>
          </div>
        </form>
      </Section>

      <AttachSection p={p} me={me} reload={reload} />
    </>
  );
}

function AttachSection({ p, me, reload }: { p: Plan; me: Me; reload(): void }) {
  const [sourceId, setSourceId] = useState(me.sources.find((s) => !p.sources.includes(s.id))?.id ?? me.sources[0]?.id ?? '');
  const [version, setVersion] = useState('');
  const [onUnplanned, setOnUnplanned] = useState('allow');
  const [onViolation, setOnViolation] = useState('flag');
  const [notice, setNotice] = useState<string | null>(null);
  const attachments = useAsync(
    (s) => Promise.all(p.sources.map((id) => get<Attachment>(`v1/admin/sources/${id}/tracking-plan`, undefined, s))),
    [p.sources.join(','), p.updatedAt],
  );
  const attach = useAction(async () => {
    const a = await put<Attachment>(`v1/admin/sources/${sourceId}/tracking-plan`, { planId: p.id, version: version ? Number(version) : null, onUnplanned, onViolation });
    setNotice(`${sourceName(me, a.sourceId)} follows this plan (${a.version === null ? 'latest version' : `v${a.version}`}): unplanned → ${a.onUnplanned}, violation → ${a.onViolation}.`);
    reload();
  });
  const detach = useAction(async (id: string) => {
    await del(`v1/admin/sources/${id}/tracking-plan`);
    setNotice(`${sourceName(me, id)} no longer follows a plan.`);
    reload();
  });
  const versions = p.versions ?? [];
  return (
    <Section title="Sources following this plan">
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      <ErrorBox error={detach.error} />
      <Loaded state={attachments} what="Loading the sources">
        {(rows) =>
          rows.length === 0 ? (
            <Empty>No source follows this plan yet.</Empty>
          ) : (
            <div class="table-wrap">
              <table>
                <caption class="muted">Sources validated against this plan</caption>
                <thead>
                  <tr>
                    <th>Source</th>
                    <th>Version</th>
                    <th>Unplanned events</th>
                    <th>Violations</th>
                    <th>Since</th>
                    <th>
                      <span class="muted">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((a) => (
                    <tr key={a.sourceId}>
                      <td>{sourceName(me, a.sourceId)}</td>
                      <td>{a.version === null ? 'latest' : `v${a.version}`}</td>
                      <td>
                        <span class="badge">{a.onUnplanned}</span>
                      </td>
                      <td>
                        <span class="badge">{a.onViolation}</span>
                      </td>
                      <td>{fmtTime(a.updatedAt)}</td>
                      <td>
                        <div class="row">
                          <a href={href('plans', [], { source: a.sourceId })}>Violations</a>
                          <ConfirmButton message={`Stop validating ${sourceName(me, a.sourceId)} against this plan?`} confirmLabel="Detach" onConfirm={() => void detach.run(a.sourceId)}>
                            Detach
                          </ConfirmButton>
                        </div>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Loaded>
      <h3>Attach to a source</h3>
      {me.sources.length === 0 ? (
        <Empty>
          No source yet: <a href={href('sources')}>create one</a>.
        </Empty>
      ) : (
        <form
          class="ops-form"
          aria-label="Attach the plan to a source"
          onSubmit={(e) => {
            e.preventDefault();
            void attach.run();
          }}
        >
          <div class="grid2">
            <Field label="Source to attach">
              <select value={sourceId} onChange={value(setSourceId)}>
                {me.sources.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.name}
                    {p.sources.includes(s.id) ? ' (follows it)' : ''}
                  </option>
                ))}
              </select>
            </Field>
            <Field label="Version">
              <select value={version} onChange={value(setVersion)}>
                <option value="">Follow the latest</option>
                {versions.map((v) => (
                  <option key={v.version} value={String(v.version)}>
                    Pin v{v.version}
                  </option>
                ))}
              </select>
            </Field>
            <Field label="Unplanned events" hint="A track event the plan does not list (when allowUnplanned is false)">
              <select value={onUnplanned} onChange={value(setOnUnplanned)}>
                {ACTIONS.map((a) => (
                  <option key={a} value={a}>
                    {a}: {ACTION_HELP[a]}
                  </option>
                ))}
              </select>
            </Field>
            <Field label="Schema violations" hint="An event that fails its schema">
              <select value={onViolation} onChange={value(setOnViolation)}>
                {ACTIONS.map((a) => (
                  <option key={a} value={a}>
                    {a}: {ACTION_HELP[a]}
                  </option>
                ))}
              </select>
            </Field>
          </div>
          <p class="muted">A violation never makes ingestion answer an error: the SDKs keep sending. Every api applies the change at once.</p>
          <ErrorBox error={attach.error} />
          <div class="row">
            <button type="submit" disabled={attach.busy || !sourceId}>
              Attach
            </button>
          </div>
        </form>
      )}
    </Section>
  );
}

function ViolationsSection({ me, initialSource }: { me: Me; initialSource: string | null }) {
  const first = me.sources.find((s) => s.id === initialSource)?.id ?? me.sources[0]?.id ?? '';
  const [draft, setDraft] = useState(() => ({ sourceId: first, from: localInput(new Date(Date.now() - 7 * 86_400_000)), to: localInput(new Date(Date.now() + 3_600_000)), event: '', type: '' }));
  const [q, setQ] = useState(draft);
  const [open, setOpen] = useState<number | null>(null);
  useEffect(() => {
    if (initialSource && me.sources.some((s) => s.id === initialSource)) {
      setDraft((d) => ({ ...d, sourceId: initialSource }));
      setQ((d) => ({ ...d, sourceId: initialSource }));
    }
  }, [initialSource]);
  const report = useAsync(
    (s) => (q.sourceId ? get<{ groups: ViolationGroup[] }>(`v1/sources/${q.sourceId}/violations`, { from: isoOf(q.from), to: isoOf(q.to), event: q.event, type: q.type }, s) : Promise.resolve({ groups: [] })),
    [JSON.stringify(q)],
  );
  const attachment = useAsync(
    async (s) => {
      if (me.kind !== 'admin' || !q.sourceId) return null;
      try {
        const a = await get<Attachment>(`v1/admin/sources/${q.sourceId}/tracking-plan`, undefined, s);
        const p = await get<Plan>(`v1/admin/tracking-plans/${a.planId}`, undefined, s);
        return { a, p };
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) return null;
        throw e;
      }
    },
    [q.sourceId],
  );
  const set = (k: keyof typeof draft) => (v: string) => setDraft((d) => ({ ...d, [k]: v }));
  if (me.sources.length === 0) {
    return (
      <Section title="Violations report">
        <Empty>This key reaches no source.</Empty>
      </Section>
    );
  }
  const total = report.data?.groups.reduce((n, g) => n + g.count, 0) ?? 0;
  return (
    <Section
      title="Violations report"
      actions={
        me.kind === 'admin' && (
          <a href={href('dead-letters', [], { reason: 'schema_violation', sourceId: q.sourceId })}>Quarantine queue</a>
        )
      }
    >
      <form
        class="filters"
        aria-label="Filter the violations report"
        onSubmit={(e) => {
          e.preventDefault();
          setOpen(null);
          // The same filter again: ask again (new violations are counted every few seconds).
          if (JSON.stringify(draft) === JSON.stringify(q)) report.reload();
          else setQ(draft);
        }}
      >
        <Field label="Source">
          <select value={draft.sourceId} onChange={value(set('sourceId'))}>
            <SourceOptions sources={me.sources} />
          </select>
        </Field>
        <Field label="From">
          <input type="datetime-local" value={draft.from} onInput={value(set('from'))} required />
        </Field>
        <Field label="To">
          <input type="datetime-local" value={draft.to} onInput={value(set('to'))} required />
        </Field>
        <Field label="Event name">
          <input value={draft.event} onInput={value(set('event'))} placeholder="Order Completed" />
        </Field>
        <Field label="Violation type">
          <select value={draft.type} onChange={value(set('type'))}>
            <option value="">Any</option>
            <option value="schema_violation">schema_violation</option>
            <option value="unplanned_event">unplanned_event</option>
          </select>
        </Field>
        <button type="submit">Show</button>
      </form>
      {me.kind === 'admin' && (
        <Loaded state={attachment} what="Loading the source's plan">
          {(x) =>
            x ? (
              <p class="muted">
                {sourceName(me, q.sourceId)} follows <a href={href('plans', [x.p.id])}>{x.p.name}</a> ({x.a.version === null ? `latest, v${x.p.latestVersion}` : `v${x.a.version}`}): unplanned → {x.a.onUnplanned}, violation → {x.a.onViolation}.
              </p>
            ) : (
              <p class="muted">{sourceName(me, q.sourceId)} follows no tracking plan.</p>
            )
          }
        </Loaded>
      )}
      <Loaded state={report} what="Loading violations">
        {(r) =>
          r.groups.length === 0 ? (
            <Empty>No violation in this range.</Empty>
          ) : (
            <>
              <p class="muted">
                {fmtNumber(total)} violation(s) in {fmtNumber(r.groups.length)} group(s), counted by the hour as events arrive.
              </p>
              <div class="table-wrap">
                <table>
                  <caption class="muted">Violations grouped by event and violation, largest first</caption>
                  <thead>
                    <tr>
                      <th>Event</th>
                      <th>Violation</th>
                      <th>Where</th>
                      <th>Message</th>
                      <th>Action</th>
                      <th class="num">Count</th>
                      <th>First hour seen</th>
                      <th>Last hour seen</th>
                      <th>
                        <span class="muted">Sample</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {r.groups.map((g, i) => (
                      <Fragment key={i}>
                        <tr>
                          <td>
                            <span class="badge">{g.eventType}</span> {g.event}
                          </td>
                          <td>
                            <span class={g.type === 'schema_violation' ? 'badge bad' : 'badge warn'}>{g.type}</span> <code>{g.keyword}</code>
                          </td>
                          <td>
                            <code>{g.instancePath || '/'}</code>
                          </td>
                          <td>{g.message}</td>
                          <td>{g.action}</td>
                          <td class="num">{fmtNumber(g.count)}</td>
                          <td>{fmtTime(g.firstSeen)}</td>
                          <td>{fmtTime(g.lastSeen)}</td>
                          <td>
                            <button type="button" class="link" aria-expanded={open === i} aria-controls={`violation-sample-${i}`} onClick={() => setOpen(open === i ? null : i)}>
                              {open === i ? 'Hide sample' : 'Show sample'}
                            </button>
                          </td>
                        </tr>
                        {open === i && (
                          <tr class="ops-sample" id={`violation-sample-${i}`}>
                            <td colSpan={9}>
                              {g.sample === null ? <p class="muted">The sample was erased (a privacy deletion).</p> : <Json value={g.sample} label="Sample event" />}
                            </td>
                          </tr>
                        )}
                      </Fragment>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          )
        }
      </Loaded>
    </Section>
  );
}

/** The dry run: what ingestion would do with some events under the source's plan; nothing stored. */
function DryRunSection({ me }: { me: Me }) {
  const [sourceId, setSourceId] = useState(me.sources[0]?.id ?? '');
  const [text, setText] = useState('[\n  { "type": "track", "event": "Order Completed", "userId": "user-42", "properties": {} }\n]');
  const [localError, setLocalError] = useState<string | null>(null);
  const [result, setResult] = useState<ValidateResult | null>(null);
  const run = useAction(async () => {
    let events: unknown;
    try {
      events = JSON.parse(text);
    } catch (e) {
      return setLocalError(`The events are not valid JSON: ${(e as Error).message}`);
    }
    if (!Array.isArray(events)) return setLocalError('The events must be a JSON array.');
    setLocalError(null);
    setResult(await post<ValidateResult>(`v1/sources/${sourceId}/tracking-plan/validate`, { events }));
  });
  if (me.sources.length === 0) return null;
  return (
    <Section title="Test events against the plan">
      <form
        class="ops-form"
        aria-label="Test events against the source's plan"
        onSubmit={(e) => {
          e.preventDefault();
          void run.run();
        }}
      >
        <p class="muted">A dry run of ingestion against the plan the source follows: nothing is stored or counted.</p>
        <Field label="Source to test">
          <select value={sourceId} onChange={value(setSourceId)}>
            <SourceOptions sources={me.sources} />
          </select>
        </Field>
        <Field label="Events (JSON array, as in /v1/batch)">
          <textarea rows={6} value={text} onInput={value(setText)} spellcheck={false} />
        </Field>
        {localError && (
          <p class="error" role="alert">
            {localError}
          </p>
        )}
        <ErrorBox error={run.error} />
        <div class="row">
          <button type="submit" disabled={run.busy || !sourceId}>
            Test events
          </button>
        </div>
      </form>
      {result && (
        <>
          <p class={result.invalid ? 'warning' : 'notice'} role="status">
            Plan {result.plan}: {result.valid} valid, {result.invalid} not.
          </p>
          <div class="table-wrap">
            <table>
              <caption class="muted">What ingestion would do with each event</caption>
              <thead>
                <tr>
                  <th class="num">#</th>
                  <th>Outcome</th>
                  <th>Violations or reason</th>
                </tr>
              </thead>
              <tbody>
                {result.events.map((e) => (
                  <tr key={e.index}>
                    <td class="num">{e.index}</td>
                    <td>
                      <span class={e.outcome === 'valid' ? 'badge ok' : e.outcome === 'rejected' ? 'badge bad' : 'badge warn'}>{e.outcome}</span>
                    </td>
                    <td>
                      {e.outcome === 'rejected' ? (
                        `${e.reason}: ${e.message}`
                      ) : e.violations.length === 0 ? (
                        <span class="muted">none</span>
                      ) : (
                        <ul>
                          {e.violations.map((v, i) => (
                            <li key={i}>
                              <code>{v.type}</code> {v.message}
                            </li>
                          ))}
                        </ul>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </Section>
  );
}
