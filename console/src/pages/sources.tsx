// Sources: what sends events. An admin key lists, creates (the write key shown once, with set-up
// snippets), sets limits and retention, manages write keys and deletes; a read key sees the
// sources it reaches, read-only.
import { useEffect, useState } from 'preact/hooks';
import { del, get, patch, post } from '../api';
import { ConfirmButton, Empty, ErrorBox, Field, fmtNumber, Loaded, RefreshButton, Section, useAction, useAsync, value } from '../components';
import { href, route as routeSignal } from '../router';
import { signal, useSignal } from '../signal';
import { type CreatedKey, KeyActions, KeyStatus, When, OneTimeKey, RotatedNote, type RotatedKey, type KeySummary, type SourceView } from './keys-shared';
import { Snippets } from './sources-snippets';
import type { PageProps } from './types';

/** CreatedSourceDto. */
interface CreatedSource {
  id: string;
  name: string;
  writeKey: string;
  createdAt: string;
}

// The just-created source lives outside the component: refreshing the header's source list may
// remount this page (the shell keys pages by the chosen source), and the key must not vanish then.
const justCreated = signal<CreatedSource | null>(null);
const pageNotice = signal<string | null>(null);

export function SourcesPage(props: PageProps) {
  if (props.me.kind !== 'admin') return <ReadOnlySources {...props} />;
  return <AdminSources {...props} />;
}

function ReadOnlySources({ me }: PageProps) {
  return (
    <>
      <h1>Sources</h1>
      <p class="muted">
        This read key {me.sourceIds === null ? 'reads every source' : `reads ${me.sources.length} source${me.sources.length === 1 ? '' : 's'}`}. Only an admin key creates sources or changes their limits and keys.
      </p>
      <Section title="Sources this key reads">
        {me.sources.length === 0 ? (
          <Empty>This key reaches no source yet. Ask an admin for a read key scoped to a source.</Empty>
        ) : (
          <div class="table-wrap">
            <table>
              <caption class="visually-hidden">Sources this key reads</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">ID</th>
                </tr>
              </thead>
              <tbody>
                {me.sources.map((s) => (
                  <tr key={s.id}>
                    <th scope="row">{s.name}</th>
                    <td>
                      <code>{s.id}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
    </>
  );
}

function AdminSources({ me, refreshMe }: PageProps) {
  const list = useAsync((signal) => get<SourceView[]>('v1/admin/sources', undefined, signal), []);
  const created = useSignal(justCreated);
  const [open, setOpen] = useState<string | null>(null);
  const notice = useSignal(pageNotice);
  const setNotice = (n: string | null) => pageNotice.set(n);

  // Leaving the page forgets the shown-once key; a remount on the same page keeps it.
  useEffect(
    () => () =>
      queueMicrotask(() => {
        if (routeSignal.get().page === 'sources') return;
        justCreated.set(null);
        pageNotice.set(null);
      }),
    [],
  );

  const remove = useAction(async (s: SourceView) => {
    await del(`v1/admin/sources/${s.id}`);
    setNotice(`Deleted the source “${s.name}” and its keys.`);
    if (justCreated.get()?.id === s.id) justCreated.set(null);
    list.reload();
    refreshMe();
  });

  return (
    <>
      <h1>Sources</h1>
      <p class="muted">A source is one app, site or service that sends events. Each has its own write keys, rate limits, daily quota and retention.</p>
      <CreateSource
        onCreated={(c) => {
          setNotice(null);
          justCreated.set(c);
          list.reload();
          refreshMe();
        }}
      />
      {created && (
        <OneTimeKey title={`Source “${created.name}” created`} secret={created.writeKey} onDone={() => justCreated.set(null)}>
          <p>
            This is the write key of <b>{created.name}</b> (<code>{created.id}</code>). Send events with it from any of these:
          </p>
          <Snippets writeKey={created.writeKey} />
        </OneTimeKey>
      )}
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      <ErrorBox error={remove.error} />
      <Section
        title="All sources"
        actions={
          <RefreshButton state={list} />
        }
      >
        <Loaded state={list} what="Loading sources">
          {(sources) =>
            sources.length === 0 ? (
              <Empty>No source yet: create the first one above.</Empty>
            ) : (
              <div class="table-wrap">
                <table class="compact">
                  <caption class="visually-hidden">All sources</caption>
                  <thead>
                    <tr>
                      <th scope="col">Name and ID</th>
                      <th scope="col">Created</th>
                      <th scope="col">Limits</th>
                      <th scope="col">Retention</th>
                      <th scope="col">Write keys</th>
                      <th scope="col">Actions</th>
                    </tr>
                  </thead>
                  <tbody>
                    {sources.map((s) => (
                      <SourceRow
                        key={s.id}
                        s={s}
                        me={me.keyId}
                        open={open === s.id}
                        onToggle={() => setOpen(open === s.id ? null : s.id)}
                        onChanged={list.reload}
                        onDelete={() => remove.run(s)}
                      />
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

function CreateSource({ onCreated }: { onCreated: (c: CreatedSource) => void }) {
  const [name, setName] = useState('');
  const create = useAction(async () => {
    // Sent as typed: the API says what it refuses (blank, longer than 200 characters).
    const c = await post<CreatedSource>('v1/admin/sources', { name });
    setName('');
    onCreated(c);
  });
  return (
    <Section title="Create a source">
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          void create.run();
        }}
      >
        <Field label="Source name" hint="1-200 characters, e.g. web-app or billing-service">
          <input value={name} onInput={value(setName)} autocomplete="off" placeholder="web-app" />
        </Field>
        <button type="submit" disabled={create.busy}>
          {create.busy ? 'Creating…' : 'Create source'}
        </button>
      </form>
      <ErrorBox error={create.error} />
    </Section>
  );
}

const limit = (v: number | null, unit: string) => (v === null ? `default ${unit}` : v === 0 ? `unlimited ${unit}` : `${fmtNumber(v)} ${unit}`);

function retentionText(r: SourceView['retention']): string {
  if (r.retentionDays === null) return `global (${fmtNumber(r.effectiveDays)} days)`;
  if (r.effectiveDays < r.retentionDays) return `${fmtNumber(r.retentionDays)} days (${fmtNumber(r.effectiveDays)} in effect)`;
  return `${fmtNumber(r.retentionDays)} days`;
}

function SourceRow({ s, me, open, onToggle, onChanged, onDelete }: { s: SourceView; me: string; open: boolean; onToggle: () => void; onChanged: () => void; onDelete: () => Promise<unknown> }) {
  const live = s.writeKeys.filter((k) => !k.revokedAt);
  const panel = `source-${s.id}`;
  return (
    <>
      <tr>
        <th scope="row">
          {s.name}
          <div class="sub">
            <code>{s.id}</code>
          </div>
        </th>
        <td>
          <When iso={s.createdAt} />
        </td>
        <td>
          <ul class="plain">
            <li>{limit(s.limits.rateLimitRps, 'req/s')}</li>
            <li>{limit(s.limits.rateLimitEps, 'events/s')}</li>
            <li>{limit(s.limits.dailyEventQuota, 'events/day')}</li>
          </ul>
        </td>
        <td>{retentionText(s.retention)}</td>
        <td>
          {live.length === 0 ? (
            <span class="badge bad">none active</span>
          ) : (
            <ul class="plain">
              {live.map((k) => (
                <li key={k.id}>
                  <code>{k.prefix}…</code> {k.expiresAt && <KeyStatus k={k} />}
                </li>
              ))}
            </ul>
          )}
        </td>
        <td>
          <div class="row nowrap">
            <button type="button" class="secondary" aria-expanded={open} aria-controls={panel} onClick={onToggle}>
              {open ? 'Close' : 'Manage'}
            </button>
            <ConfirmButton confirmLabel="Delete source" onConfirm={() => void onDelete()} message={<>Delete the source “{s.name}” and all its keys? Its write keys stop working at once; stored events are kept.</>}>
              Delete
            </ConfirmButton>
          </div>
        </td>
      </tr>
      {open && (
        <tr id={panel} class="panel-row">
          <td colSpan={6}>
            <ManageSource s={s} me={me} onChanged={onChanged} />
          </td>
        </tr>
      )}
    </>
  );
}

/** The UpdateSourceDto fields, as the form holds them (text; empty means null). */
interface SettingsForm {
  name: string;
  rateLimitRps: string;
  rateLimitEps: string;
  dailyEventQuota: string;
  retentionDays: string;
}

const toText = (v: number | null) => (v === null ? '' : String(v));
const toNumber = (v: string): number | null => (v.trim() === '' ? null : Number(v));

function ManageSource({ s, me, onChanged }: { s: SourceView; me: string; onChanged: () => void }) {
  const [form, setForm] = useState<SettingsForm>(() => ({
    name: s.name,
    rateLimitRps: toText(s.limits.rateLimitRps),
    rateLimitEps: toText(s.limits.rateLimitEps),
    dailyEventQuota: toText(s.limits.dailyEventQuota),
    retentionDays: toText(s.retention.retentionDays),
  }));
  const [saved, setSaved] = useState(false);
  const [shown, setShown] = useState<{ title: string; key: CreatedKey | RotatedKey } | null>(null);
  const [newKeyName, setNewKeyName] = useState('');
  const set = (k: keyof SettingsForm) => value((v) => (setSaved(false), setForm((f) => ({ ...f, [k]: v }))));

  const save = useAction(async () => {
    await patch<SourceView>(`v1/admin/sources/${s.id}`, {
      ...(form.name !== s.name ? { name: form.name } : {}),
      rateLimitRps: toNumber(form.rateLimitRps),
      rateLimitEps: toNumber(form.rateLimitEps),
      dailyEventQuota: toNumber(form.dailyEventQuota),
      retentionDays: toNumber(form.retentionDays),
    });
    setSaved(true);
    onChanged();
  });
  const keyAction = useAction(async (what: 'add' | 'rotate' | 'revoke', k?: KeySummary, overlapSeconds?: number) => {
    setShown(null);
    if (what === 'add') {
      const c = await post<CreatedKey>('v1/admin/keys', { kind: 'write', sourceId: s.id, ...(newKeyName.trim() ? { name: newKeyName.trim() } : {}) });
      setNewKeyName('');
      setShown({ title: `New write key for “${s.name}”`, key: c });
    } else if (what === 'rotate') {
      const r = await post<RotatedKey>(`v1/admin/keys/${k!.id}/rotate`, { overlapSeconds });
      setShown({ title: `Rotated write key of “${s.name}”`, key: r });
    } else {
      await post<KeySummary>(`v1/admin/keys/${k!.id}/revoke`);
    }
    onChanged();
  });

  return (
    <div class="manage">
      <h3>Settings of “{s.name}”</h3>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void save.run();
        }}
      >
        <div class="grid2">
          <Field label="Name">
            <input value={form.name} onInput={set('name')} autocomplete="off" />
          </Field>
          <Field label="Requests per second" hint="Empty: the global default; 0: unlimited">
            <input type="number" inputMode="numeric" min={0} step={1} value={form.rateLimitRps} onInput={set('rateLimitRps')} />
          </Field>
          <Field label="Events per second" hint="Empty: the global default; 0: unlimited">
            <input type="number" inputMode="numeric" min={0} step={1} value={form.rateLimitEps} onInput={set('rateLimitEps')} />
          </Field>
          <Field label="Daily event quota" hint="Events per UTC day. Empty: the global default; 0: unlimited">
            <input type="number" inputMode="numeric" min={0} step={1} value={form.dailyEventQuota} onInput={set('dailyEventQuota')} />
          </Field>
          <Field label="Retention (days)" hint={`Empty: the global retention${s.retention.retentionDays === null ? ` (${s.retention.effectiveDays} days)` : ', RETENTION_DAYS'}. Longer than RETENTION_DAYS has no effect.`}>
            <input type="number" inputMode="numeric" min={1} step={1} value={form.retentionDays} onInput={set('retentionDays')} />
          </Field>
        </div>
        <div class="row form-actions">
          <button type="submit" disabled={save.busy}>
            {save.busy ? 'Saving…' : 'Save settings'}
          </button>
          {saved && (
            <span class="notice inline" role="status">
              Saved.
            </span>
          )}
        </div>
      </form>
      <ErrorBox error={save.error} />

      <h3>Write keys</h3>
      {shown && (
        <OneTimeKey title={shown.title} secret={shown.key.key} onDone={() => setShown(null)}>
          {'previousKeyExpiresAt' in shown.key && <RotatedNote r={shown.key} />}
        </OneTimeKey>
      )}
      <ErrorBox error={keyAction.error} />
      {s.writeKeys.length === 0 ? (
        <Empty>No write key: add one below.</Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Write keys of {s.name}</caption>
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Name</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                <th scope="col">Status</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {s.writeKeys.map((k) => (
                <tr key={k.id}>
                  <td>
                    <code>{k.prefix}…</code>
                  </td>
                  <td>{k.name ?? '—'}</td>
                  <td>
                    <When iso={k.createdAt} />
                  </td>
                  <td>
                    <When iso={k.lastUsedAt} />
                  </td>
                  <td>
                    <When iso={k.expiresAt} />
                  </td>
                  <td>
                    <KeyStatus k={k} />
                  </td>
                  <td>
                    <KeyActions k={k} isMine={k.keyId === me} onRotate={(key, o) => keyAction.run('rotate', key, o)} onRevoke={(key) => keyAction.run('revoke', key)} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          void keyAction.run('add');
        }}
      >
        <Field label="New write key name" hint="Optional, e.g. the app or environment that will use it">
          <input value={newKeyName} onInput={value(setNewKeyName)} autocomplete="off" placeholder="ios-app" />
        </Field>
        <button type="submit" class="secondary" disabled={keyAction.busy}>
          Add a write key
        </button>
      </form>
      <p class="row">
        <a href={href('keys', [], { sourceId: s.id })}>All keys of this source</a>
        <a href={href('audit', [], { target: s.id })}>History of this source</a>
      </p>
    </div>
  );
}
