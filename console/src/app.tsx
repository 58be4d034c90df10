import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, setAuthErrorHandler, setKey } from './api';
import { ErrorBox, Loading } from './components';
import { KeyPrompt } from './key-prompt';
import { PAGES } from './pages';
import { href, navigate, useRoute } from './router';
import { currentSource, type Me, storedKey, storeKey } from './session';
import { useSignal } from './signal';

type State = { phase: 'prompt'; reason?: string } | { phase: 'checking' } | { phase: 'ready'; me: Me };

export function App() {
  const [state, setState] = useState<State>(() => (storedKey() ? { phase: 'checking' } : { phase: 'prompt' }));
  const [meError, setMeError] = useState<unknown>(undefined);
  const route = useRoute();
  const sourceId = useSignal(currentSource);

  const forget = (reason?: string) => {
    storeKey(null);
    setKey(null);
    setState({ phase: 'prompt', reason });
  };

  // 401/403 from any page: back to the prompt, with the API's words.
  useEffect(() => setAuthErrorHandler((e: ApiError) => forget(`${e.message} (HTTP ${e.status}). Paste a key that may do this.`)), []);

  const loadMe = async (key: string) => {
    setKey(key);
    try {
      const me = await api<Me>('GET', 'v1/me', { quietAuth: true });
      accept(key, me);
    } catch (e) {
      if (e instanceof ApiError && e.isAuth) forget(`${e.message} (HTTP ${e.status})`);
      else setMeError(e);
    }
  };

  const accept = (key: string, me: Me) => {
    storeKey(key);
    setKey(key);
    const chosen = currentSource.get();
    if (!chosen || !me.sources.some((s) => s.id === chosen)) currentSource.set(me.sources[0]?.id ?? null);
    setState({ phase: 'ready', me });
  };

  useEffect(() => {
    const key = storedKey();
    if (key) void loadMe(key);
  }, []);

  if (state.phase === 'prompt') return <KeyPrompt reason={state.reason} onKey={accept} />;
  if (state.phase === 'checking')
    return (
      <main id="main" class="prompt">
        {meError ? <ErrorBox error={meError} /> : <Loading what="Checking the key" />}
      </main>
    );

  const me = state.me;
  const visible = PAGES.filter((p) => p.kinds.includes(me.kind));
  const page = visible.find((p) => p.id === route.page) ?? visible[0];
  const refreshMe = () => void loadMe(storedKey()!);
  if (page && route.page !== page.id) queueMicrotask(() => navigate(page.id, [], undefined, true));

  return (
    <div class="shell">
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Sluice</span>
        {page?.perSource && me.sources.length > 0 && (
          <label class="source-pick">
            <span>Source</span>
            <select value={sourceId ?? ''} onChange={(e) => currentSource.set(e.currentTarget.value || null)}>
              {me.sources.map((s) => (
                <option value={s.id} key={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
          </label>
        )}
        <span class="who" title={`key ${me.keyId}`}>
          {me.kind} key <code>{me.keyId}</code>
        </span>
        <button type="button" class="secondary" onClick={() => forget()}>
          Forget key
        </button>
      </header>
      <nav class="side" aria-label="Pages">
        <ul>
          {visible.map((p) => (
            <li key={p.id}>
              <a href={href(p.id)} aria-current={p.id === page?.id ? 'page' : undefined}>
                {p.title}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        {me.kind === 'write' ? (
          <p class="error" role="alert">
            A write key can only send events. Forget it and paste a read key or an admin key to see data.
          </p>
        ) : !page ? null : page.perSource && !sourceId ? (
          <p class="empty">
            This key reaches no source yet. {me.kind === 'admin' ? <a href={href('sources')}>Create one on the Sources page.</a> : 'Ask an admin for a read key scoped to a source.'}
          </p>
        ) : (
          // A per-source page starts afresh when the source changes; the others keep their state
          // (the Sources page's shown-once write key survives refreshMe()).
          <page.component key={page.perSource ? `${page.id}:${sourceId}` : page.id} me={me} sourceId={sourceId} route={route} refreshMe={refreshMe} />
        )}
      </main>
    </div>
  );
}
