// Keys (admin key): every key by kind and scope, never a secret; create one (shown once), rotate
// (the successor shown once, the old key working for a grace period), revoke.
import { useState } from 'preact/hooks';
import { get, post } from '../api';
import { Empty, ErrorBox, Field, Loaded, RefreshButton, Section, useAction, useAsync, value } from '../components';
import { href } from '../router';
import { type CreatedKey, KeyActions, KeyStatus, When, type KeySummary, OneTimeKey, RotatedNote, type RotatedKey, type SourceView } from './keys-shared';
import type { PageProps } from './types';

type Kind = KeySummary['kind'];

const KIND_HELP: Record<Kind, string> = {
  write: 'sends events to one source (SDKs, servers)',
  read: 'queries the events and statistics of its sources (dashboards, the console)',
  admin: 'manages sources, keys, dead letters, privacy and tracking plans',
};

export function KeysPage({ me, route }: PageProps) {
  const sources = useAsync((signal) => get<SourceView[]>('v1/admin/sources', undefined, signal), []);
  const [kind, setKind] = useState<string>(route.params.get('kind') ?? '');
  const [sourceId, setSourceId] = useState<string>(route.params.get('sourceId') ?? '');
  const [includeRevoked, setIncludeRevoked] = useState(route.params.get('includeRevoked') === 'true');
  const keys = useAsync((signal) => get<KeySummary[]>('v1/admin/keys', { kind, sourceId, includeRevoked: includeRevoked ? 'true' : undefined }, signal), [kind, sourceId, includeRevoked]);
  const [shown, setShown] = useState<{ title: string; key: CreatedKey | RotatedKey } | null>(null);

  const names = new Map((sources.data ?? []).map((s) => [s.id, s.name]));
  const byId = new Map((keys.data ?? []).map((k) => [k.id, k]));
  const sourceName = (id: string) => names.get(id) ?? id;

  const act = useAction(async (what: 'rotate' | 'revoke', k: KeySummary, overlapSeconds?: number) => {
    setShown(null);
    if (what === 'rotate') {
      const r = await post<RotatedKey>(`v1/admin/keys/${k.id}/rotate`, { overlapSeconds });
      setShown({ title: `Rotated ${k.kind} key${k.name ? ` “${k.name}”` : ''}`, key: r });
    } else {
      await post<KeySummary>(`v1/admin/keys/${k.id}/revoke`);
    }
    keys.reload();
  });

  const scope = (k: KeySummary) => {
    if (k.kind === 'admin') return <span class="muted">everything</span>;
    if (k.kind === 'write') return k.sourceId ? sourceName(k.sourceId) : '—';
    if (k.sourceIds === null) return <span class="badge">all sources</span>;
    if (k.sourceIds.length === 0) return <span class="muted">no source</span>;
    return (
      <ul class="plain">
        {k.sourceIds.map((id) => (
          <li key={id}>{sourceName(id)}</li>
        ))}
      </ul>
    );
  };

  return (
    <>
      <h1>Keys</h1>
      <p class="muted">
        A <b>write</b> key {KIND_HELP.write}; a <b>read</b> key {KIND_HELP.read}; an <b>admin</b> key {KIND_HELP.admin}. A key’s secret is shown once, when it is made; only a hash is stored.
      </p>
      <ErrorBox error={sources.error} />
      <CreateKey
        sources={sources.data}
        onCreated={(c) => {
          setShown({ title: `New ${c.kind} key${c.name ? ` “${c.name}”` : ''}`, key: c });
          keys.reload();
        }}
      />
      {shown && (
        <OneTimeKey title={shown.title} secret={shown.key.key} onDone={() => setShown(null)}>
          {'previousKeyExpiresAt' in shown.key && <RotatedNote r={shown.key} />}
        </OneTimeKey>
      )}
      <ErrorBox error={act.error} />
      <Section
        title="All keys"
        actions={
          <RefreshButton state={keys} />
        }
      >
        <div class="filters" role="group" aria-label="Filter keys">
          <Field label="Kind">
            <select value={kind} onChange={value(setKind)}>
              <option value="">Any kind</option>
              <option value="write">write</option>
              <option value="read">read</option>
              <option value="admin">admin</option>
            </select>
          </Field>
          <Field label="Source">
            <select value={sourceId} onChange={value(setSourceId)}>
              <option value="">Any source</option>
              {(sources.data ?? []).map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
              {sourceId && !names.has(sourceId) && <option value={sourceId}>{sourceId}</option>}
            </select>
          </Field>
          <label class="check">
            <input type="checkbox" checked={includeRevoked} onChange={(e) => setIncludeRevoked(e.currentTarget.checked)} />
            Include revoked keys
          </label>
        </div>
        <Loaded state={keys} what="Loading keys">
          {(list) =>
            list.length === 0 ? (
              <Empty>No key matches these filters.</Empty>
            ) : (
              <div class="table-wrap">
                <table class="compact">
                  <caption class="visually-hidden">Keys</caption>
                  <thead>
                    <tr>
                      <th scope="col">Name</th>
                      <th scope="col">Key</th>
                      <th scope="col">Scope</th>
                      <th scope="col">Created</th>
                      <th scope="col">Last used</th>
                      <th scope="col">Status</th>
                      <th scope="col">Actions</th>
                    </tr>
                  </thead>
                  <tbody>
                    {list.map((k) => {
                      const from = k.rotatedFrom ? byId.get(k.rotatedFrom) : undefined;
                      return (
                        <tr key={k.id}>
                          <th scope="row">
                            {k.name ?? <span class="muted">unnamed</span>}
                            <div class="sub">{k.kind} key</div>
                            {k.keyId === me.keyId && <span class="badge warn">this console</span>}
                          </th>
                          <td>
                            <code>{k.prefix}…</code>
                            {k.rotatedFrom && (
                              <div class="sub">
                                rotated from {from ? <code>{from.prefix}…</code> : <code title={k.rotatedFrom}>{k.rotatedFrom.slice(0, 8)}…</code>}
                              </div>
                            )}
                          </td>
                          <td>{scope(k)}</td>
                          <td>
                            <When iso={k.createdAt} />
                          </td>
                          <td>
                            <When iso={k.lastUsedAt} />
                          </td>
                          <td>
                            <KeyStatus k={k} />
                            {k.revokedAt ? (
                              <div class="muted">
                                revoked <When iso={k.revokedAt} />
                              </div>
                            ) : (
                              k.expiresAt && (
                                <div class="muted">
                                  {Date.parse(k.expiresAt) > Date.now() ? 'expires' : 'expired'} <When iso={k.expiresAt} />
                                </div>
                              )
                            )}
                          </td>
                          <td>
                            <div class="cell-actions">
                              <KeyActions k={k} isMine={k.keyId === me.keyId} onRotate={(key, o) => act.run('rotate', key, o)} onRevoke={(key) => act.run('revoke', key)} />
                              <a href={href('audit', [], { target: k.id })} aria-label={`History of ${k.prefix}…`}>
                                History
                              </a>
                            </div>
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
    </>
  );
}

function CreateKey({ sources, onCreated }: { sources: SourceView[] | undefined; onCreated: (c: CreatedKey) => void }) {
  const [kind, setKind] = useState<Kind>('read');
  const [name, setName] = useState('');
  const [sourceId, setSourceId] = useState('');
  const [allSources, setAllSources] = useState(true);
  const [chosen, setChosen] = useState<string[]>([]);
  const create = useAction(async () => {
    if (kind === 'read' && !allSources && chosen.length === 0) throw new Error('Choose at least one source for this read key, or let it read all sources.');
    const body: Record<string, unknown> = { kind };
    if (name.trim()) body.name = name.trim();
    if (kind === 'write') body.sourceId = sourceId || sources?.[0]?.id;
    if (kind === 'read' && !allSources) body.sourceIds = chosen;
    const c = await post<CreatedKey>('v1/admin/keys', body);
    setName('');
    setChosen([]);
    onCreated(c);
  });
  const toggle = (id: string, on: boolean) => setChosen((c) => (on ? [...c, id] : c.filter((x) => x !== id)));
  return (
    <Section title="Create a key">
      <form
        class="create-key"
        onSubmit={(e) => {
          e.preventDefault();
          void create.run();
        }}
      >
        <div class="grid2">
          <Field label="Kind" hint={`A ${kind} key ${KIND_HELP[kind]}.`}>
            <select value={kind} onChange={(e) => setKind(e.currentTarget.value as Kind)}>
              <option value="read">read</option>
              <option value="write">write</option>
              <option value="admin">admin</option>
            </select>
          </Field>
          <Field label="Key name" hint="Optional: who or what uses it, e.g. grafana">
            <input value={name} onInput={value(setName)} autocomplete="off" placeholder="grafana" />
          </Field>
          {kind === 'write' && (
            <Field label="Source it sends to">
              <select value={sourceId || sources?.[0]?.id || ''} onChange={value(setSourceId)} disabled={!sources?.length}>
                {!sources?.length && <option value="">{sources ? 'No source yet: create one on the Sources page' : 'Loading sources…'}</option>}
                {(sources ?? []).map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.name}
                  </option>
                ))}
              </select>
            </Field>
          )}
        </div>
        {kind === 'read' && (
          <fieldset class="scope">
            <legend>Sources it may read</legend>
            <label class="check">
              <input type="radio" name="read-scope" checked={allSources} onChange={() => setAllSources(true)} />
              All sources, including ones created later
            </label>
            <label class="check">
              <input type="radio" name="read-scope" checked={!allSources} onChange={() => setAllSources(false)} />
              Only the sources chosen here
            </label>
            {!allSources &&
              (sources === undefined ? (
                <p class="muted">Loading sources…</p>
              ) : sources.length === 0 ? (
                <p class="muted">No source yet: create one on the Sources page.</p>
              ) : (
                <div class="checks" role="group" aria-label="Sources">
                  {sources.map((s) => (
                    <label class="check" key={s.id}>
                      <input type="checkbox" checked={chosen.includes(s.id)} onChange={(e) => toggle(s.id, e.currentTarget.checked)} />
                      {s.name}
                    </label>
                  ))}
                </div>
              ))}
          </fieldset>
        )}
        <div class="row form-actions">
          <button type="submit" disabled={create.busy}>
            {create.busy ? 'Creating…' : 'Create key'}
          </button>
          <span class="muted">Keys do not expire on their own: rotate or revoke them here.</span>
        </div>
      </form>
      <ErrorBox error={create.error} />
    </Section>
  );
}
