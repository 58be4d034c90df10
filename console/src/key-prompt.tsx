import { useState } from 'preact/hooks';
import { api, ApiError } from './api';
import { ErrorBox, Field, value } from './components';
import type { Me } from './session';

/** Asks for a key, checks it with GET /v1/me, and hands it on only when the API accepts it. */
export function KeyPrompt({ reason, onKey }: { reason?: string; onKey: (key: string, me: Me) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const k = key.trim();
    if (!k) return setError(new Error('Paste an API key (sk_admin_…, sk_read_…).'));
    setBusy(true);
    setError(undefined);
    try {
      const me = await api<Me>('GET', 'v1/me', { key: k, quietAuth: true });
      onKey(k, me);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? new ApiError(401, `${err.message} Check that you pasted the whole key.`, err.body) : err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="prompt" id="main">
      <h1>Sluice console</h1>
      <p>
        Paste an API key. The console can do exactly what the key may do: an <b>admin key</b> manages sources, keys, dead letters, privacy requests and tracking plans; a <b>read key</b> sees the events and
        statistics of its sources.
      </p>
      <p class="muted">The first admin key comes from the bootstrap token (README: “Create a source”) or `npm run cli -- keys:create --kind admin`. The key is kept in this tab only (sessionStorage).</p>
      {reason && (
        <div class="error" role="alert">
          {reason}
        </div>
      )}
      <form onSubmit={submit}>
        <Field label="API key">
          <input type="password" autocomplete="off" spellcheck={false} value={key} onInput={value(setKey)} placeholder="sk_admin_…" autofocus />
        </Field>
        <button type="submit" disabled={busy}>
          {busy ? 'Checking…' : 'Open the console'}
        </button>
      </form>
      <ErrorBox error={error} />
    </main>
  );
}
