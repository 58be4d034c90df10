// The live debugger: a source's events as the API accepts them (GET /v1/sources/:id/live,
// Server-Sent Events read with fetch so the key stays in the Authorization header).
import { useEffect, useRef, useState } from 'preact/hooks';
import { apiRaw, ApiError } from '../api';
import { Empty, ErrorBox, errorText, Field, fmtNumber, Json, Section, value } from '../components';
import { SseParser } from './live-sse';
import type { PageProps } from './types';
import './data-pages.css';

const EVENT_TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const;
/** Rows kept on screen (older ones fall off the bottom). */
const KEEP = 500;
const BACKOFF_MS = [1000, 2000, 5000, 10000, 30000];

interface LiveEvent {
  seq: number;
  messageId: string;
  type: string;
  name: string | null;
  receivedAt: string;
  payload: Record<string, unknown>;
}

interface Filter {
  type: string;
  event: string;
}

type Conn =
  | { state: 'connecting' }
  | { state: 'live'; filter: Filter }
  | { state: 'reconnecting'; error: unknown; inMs: number }
  | { state: 'failed'; error: unknown };

let seq = 0;

export function LivePage({ sourceId, route }: PageProps) {
  const [draft, setDraft] = useState<Filter>(() => ({ type: route.params.get('type') ?? '', event: route.params.get('event') ?? '' }));
  const [filter, setFilter] = useState<Filter>(draft);
  const [conn, setConn] = useState<Conn>({ state: 'connecting' });
  const [hello, setHello] = useState<{ maxEventsPerSecond: number } | null>(null);
  const [skipped, setSkipped] = useState(0);
  const [events, setEvents] = useState<LiveEvent[]>([]);
  const [paused, setPaused] = useState(false);
  const [held, setHeld] = useState(0);
  const [expanded, setExpanded] = useState<ReadonlySet<number>>(new Set());
  /** Bumped by "Reconnect now". */
  const [retry, setRetry] = useState(0);
  const pausedRef = useRef(false);
  const heldRef = useRef<LiveEvent[]>([]);
  const retryRef = useRef(0);

  // One stream per (source, filter); reconnects with backoff; aborted when leaving the page.
  useEffect(() => {
    if (!sourceId) return;
    const ctl = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let attempt = 0;
    const query = { type: filter.type || undefined, event: filter.event || undefined };
    // A new filter starts a new view: rows of the previous stream would not match it.
    if (retry === retryRef.current) {
      heldRef.current = [];
      setHeld(0);
      setEvents([]);
      setExpanded(new Set());
    }
    retryRef.current = retry;

    const connect = async () => {
      setConn(attempt === 0 ? { state: 'connecting' } : (c) => c);
      let error: unknown;
      try {
        const res = await apiRaw('GET', `v1/sources/${encodeURIComponent(sourceId)}/live`, { query, signal: ctl.signal });
        if (!res.body) throw new Error('The browser gave no stream body.');
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        const parser = new SseParser();
        for (;;) {
          const { value: chunk, done } = await reader.read();
          if (done) break;
          for (const f of parser.push(chunk)) {
            if (f.event === 'hello') {
              attempt = 0;
              setHello(JSON.parse(f.data) as { maxEventsPerSecond: number });
              setConn({ state: 'live', filter });
            } else if (f.event === 'skipped') {
              const { count } = JSON.parse(f.data) as { count: number };
              setSkipped((n) => n + count);
            } else if (f.event === 'event') {
              const ev = { ...(JSON.parse(f.data) as Omit<LiveEvent, 'seq'>), seq: ++seq };
              if (pausedRef.current) {
                heldRef.current = [ev, ...heldRef.current].slice(0, KEEP);
                setHeld((n) => n + 1);
              } else setEvents((list) => [ev, ...list].slice(0, KEEP));
            }
          }
        }
        error = new Error('The server ended the stream.');
      } catch (e) {
        if (ctl.signal.aborted) return;
        error = e;
      }
      if (ctl.signal.aborted) return;
      // A refused filter will be refused again; a refused key went back to the key prompt.
      if (error instanceof ApiError && error.status >= 400 && error.status < 500) {
        setConn({ state: 'failed', error });
        return;
      }
      // The listener limit answers with Retry-After of 5 s or more: no sooner, then.
      const full = error instanceof ApiError && (error.body as { reason?: string } | null)?.reason === 'live_listeners_full';
      const inMs = Math.max(BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)], full ? 5000 : 0);
      attempt++;
      setConn({ state: 'reconnecting', error, inMs });
      timer = setTimeout(() => void connect(), inMs);
    };
    void connect();
    return () => {
      ctl.abort();
      clearTimeout(timer);
    };
  }, [sourceId, filter.type, filter.event, retry]);

  const pause = () => {
    pausedRef.current = true;
    setPaused(true);
  };
  const resume = () => {
    pausedRef.current = false;
    const got = heldRef.current;
    heldRef.current = [];
    setHeld(0);
    setPaused(false);
    setEvents((list) => [...got, ...list].slice(0, KEEP));
  };
  const toggle = (n: number) =>
    setExpanded((s) => {
      const next = new Set(s);
      if (next.has(n)) next.delete(n);
      else next.add(n);
      return next;
    });
  const apply = (e: Event) => {
    e.preventDefault();
    setFilter({ type: draft.type, event: draft.event.trim() });
  };
  const clearFilter = () => {
    setDraft({ type: '', event: '' });
    setFilter({ type: '', event: '' });
  };
  const filtered = !!(filter.type || filter.event);

  return (
    <>
      <h1>Live debugger</h1>
      <p class="muted">Events of this source as the API accepts them, newest on top (the last {KEEP} are kept).</p>
      <Section
        title="Stream"
        actions={
          <>
            {paused ? (
              <button type="button" onClick={resume}>
                Resume{held > 0 ? ` (${fmtNumber(held)} new)` : ''}
              </button>
            ) : (
              <button type="button" onClick={pause}>
                Pause
              </button>
            )}
            <button type="button" class="secondary" onClick={() => (setEvents([]), setExpanded(new Set()))} disabled={events.length === 0}>
              Clear
            </button>
          </>
        }
      >
        <form class="filters" onSubmit={apply} aria-label="Live filters">
          <Field label="Type">
            <select value={draft.type} onChange={value((type) => setDraft({ ...draft, type }))}>
              <option value="">All types</option>
              {EVENT_TYPES.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Event name" hint="Exact name of a track event, page or screen">
            <input value={draft.event} onInput={value((event) => setDraft({ ...draft, event }))} placeholder="Order Completed" />
          </Field>
          <div class="row">
            <button type="submit">Apply filter</button>
            {filtered && (
              <button type="button" class="secondary" onClick={clearFilter}>
                Clear filter
              </button>
            )}
          </div>
        </form>
        <ConnState conn={conn} paused={paused} held={held} onRetry={() => setRetry((n) => n + 1)} />
        <p class="muted live-meta">
          {hello && <>Sampling: at most {fmtNumber(hello.maxEventsPerSecond)} events per second. </>}
          Skipped by sampling: <strong>{fmtNumber(skipped)}</strong>
          {skipped > 0 && ' (counted over all of the source’s events, before the filter)'}.
        </p>
        {events.length === 0 ? (
          <Empty>{conn.state === 'live' ? 'Waiting for events… send one to this source and it appears here.' : 'No events yet.'}</Empty>
        ) : (
          <div class="table-wrap">
            <table class="events">
              <caption class="visually-hidden">Live events, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">
                    <span class="visually-hidden">Details</span>
                  </th>
                  <th scope="col">Received</th>
                  <th scope="col">Type</th>
                  <th scope="col">Name</th>
                  <th scope="col">User</th>
                  <th scope="col">messageId</th>
                </tr>
              </thead>
              <tbody>
                {events.map((ev) => (
                  <LiveRow key={ev.seq} ev={ev} open={expanded.has(ev.seq)} onToggle={() => toggle(ev.seq)} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
    </>
  );
}

function ConnState({ conn, paused, held, onRetry }: { conn: Conn; paused: boolean; held: number; onRetry: () => void }) {
  return (
    <div role="status" aria-live="polite" class="live-state">
      {conn.state === 'connecting' && <span class="badge warn">Connecting…</span>}
      {conn.state === 'live' && (
        <>
          <span class="badge ok">Live</span>
          <span class="muted">{describe(conn.filter)}</span>
        </>
      )}
      {conn.state === 'reconnecting' && (
        <>
          <span class="badge warn">Reconnecting</span> <span class="muted">in {Math.round(conn.inMs / 1000)} s: {errorText(conn.error)}</span>
          <button type="button" class="secondary" onClick={onRetry}>
            Reconnect now
          </button>
        </>
      )}
      {paused && (
        <span class="badge">
          Paused{held > 0 ? `: ${fmtNumber(held)} new` : ''}
        </span>
      )}
      {conn.state === 'failed' && (
        <>
          <ErrorBox error={conn.error} />
          <button type="button" class="secondary" onClick={onRetry}>
            Try again
          </button>
        </>
      )}
    </div>
  );
}

function describe(f: Filter): string {
  if (!f.type && !f.event) return 'all events of the source';
  return `only ${f.type ? `${f.type} calls` : 'events'}${f.event ? ` named “${f.event}”` : ''}`;
}

function who(p: Record<string, unknown>): string {
  if (typeof p.userId === 'string' && p.userId) return p.userId;
  if (typeof p.anonymousId === 'string' && p.anonymousId) return `anon ${p.anonymousId}`;
  return '—';
}

function LiveRow({ ev, open, onToggle }: { ev: LiveEvent; open: boolean; onToggle: () => void }) {
  const id = `live-${ev.seq}`;
  const t = new Date(ev.receivedAt);
  return (
    <>
      <tr class={open ? 'open' : undefined}>
        <td>
          <button type="button" class="secondary expand" aria-expanded={open} aria-controls={open ? id : undefined} onClick={onToggle}>
            {open ? 'Hide' : 'Show'}
            <span class="visually-hidden"> JSON of {ev.type} {ev.name ?? ''} {ev.messageId}</span>
          </button>
        </td>
        <td class="nowrap">
          <time dateTime={ev.receivedAt} title={t.toLocaleString()}>
            {Number.isNaN(t.getTime()) ? ev.receivedAt : t.toLocaleTimeString(undefined, { hour12: false }) + '.' + String(t.getMilliseconds()).padStart(3, '0')}
          </time>
        </td>
        <td>
          <span class="badge">{ev.type}</span>
        </td>
        <td>{ev.name ?? <span class="muted">—</span>}</td>
        <td class="wrap">{who(ev.payload)}</td>
        <td class="mono wrap">{ev.messageId}</td>
      </tr>
      {open && (
        <tr id={id} class="detail">
          <td colSpan={6}>
            <Json value={ev.payload} label={`Event ${ev.messageId}`} />
          </td>
        </tr>
      )}
    </>
  );
}
