// The explorer: a source's stored events, filtered, newest first, with cursor pagination
// (GET /v1/sources/:id/events), and the receipt of one messageId (stored, dead-lettered, unknown).
import { Fragment } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, get } from '../api';
import { CopyButton, Empty, ErrorBox, Field, fmtTime, Json, Loading, RefreshButton, Section, useAction, useAsync, value } from '../components';
import { href, navigate } from '../router';
import type { PageProps } from './types';
import './data-pages.css';

const EVENT_TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const;
const PAGE_SIZES = ['20', '50', '100', '500', '1000'];
const MAX_FIELD_FILTERS = 10;

type StoredEvent = Record<string, unknown> & { messageId: string; type: string; timestamp: string };
interface EventsPage {
  items: StoredEvent[];
  nextCursor: string | null;
}
interface DeadLetterInfo {
  id: string;
  reasonCode: string;
  reason: string;
  deadLetteredAt: string;
}
type Receipt = { messageId: string; status: 'stored'; event: StoredEvent; deadLetter?: DeadLetterInfo } | { messageId: string; status: 'dead_lettered'; deadLetter: DeadLetterInfo };
type ReceiptAnswer = Receipt | { messageId: string; status: 'not_found'; message: string; reason?: string };

interface FieldFilter {
  column: 'properties' | 'context';
  path: string;
  value: string;
}
interface Filters {
  from: string;
  to: string;
  type: string;
  event: string;
  userId: string;
  anonymousId: string;
  limit: string;
  fields: FieldFilter[];
}

const SIMPLE = ['from', 'to', 'type', 'event', 'userId', 'anonymousId', 'limit'] as const;

/** The applied filters live in the hash (#/explorer?event=...), so a view can be linked and Back works. */
function fromParams(p: URLSearchParams): Filters {
  const f: Filters = { from: '', to: '', type: '', event: '', userId: '', anonymousId: '', limit: '100', fields: [] };
  for (const k of SIMPLE) f[k] = p.get(k) ?? f[k];
  for (const [k, v] of p) {
    const m = /^(properties|context)\.(.+)$/.exec(k);
    if (m) f.fields.push({ column: m[1] as FieldFilter['column'], path: m[2], value: v });
  }
  return f;
}

function toParams(f: Filters): URLSearchParams {
  const p = new URLSearchParams();
  for (const k of SIMPLE) if (f[k] && !(k === 'limit' && f[k] === '100')) p.set(k, f[k].trim());
  for (const x of f.fields) if (x.path.trim()) p.append(`${x.column}.${x.path.trim()}`, x.value);
  return p;
}

/** A datetime-local value (the user's local time) as ISO 8601 for the API. */
function isoOf(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? local : d.toISOString();
}

export function ExplorerPage({ me, sourceId, route }: PageProps) {
  // Normalised, so the same filters always ask the same question.
  const applied = toParams(fromParams(route.params)).toString();
  const [lookup, setLookup] = useState<{ id: string; n: number }>({ id: route.params.get('messageId') ?? '', n: 0 });
  const [draft, setDraft] = useState<Filters>(() => fromParams(route.params));
  useEffect(() => setDraft(fromParams(route.params)), [applied]);
  const set = (k: (typeof SIMPLE)[number]) => value((v) => setDraft((d) => ({ ...d, [k]: v })));
  const setField = (i: number, patch: Partial<FieldFilter>) => setDraft((d) => ({ ...d, fields: d.fields.map((x, j) => (j === i ? { ...x, ...patch } : x)) }));

  const submit = (e: Event) => {
    e.preventDefault();
    const p = toParams(draft);
    if (p.toString() === applied) list.reload();
    else navigate('explorer', [], Object.fromEntries(p));
  };
  const reset = () => navigate('explorer');

  // The first page follows the applied filters; "Load more" appends the next ones.
  const query = (cursor?: string) => {
    const f = fromParams(new URLSearchParams(applied));
    const q: Record<string, string | string[] | undefined> = {
      from: isoOf(f.from),
      to: isoOf(f.to),
      type: f.type || undefined,
      event: f.event || undefined,
      userId: f.userId || undefined,
      anonymousId: f.anonymousId || undefined,
      limit: f.limit,
      cursor,
    };
    for (const x of f.fields) q[`${x.column}.${x.path}`] = [...((q[`${x.column}.${x.path}`] as string[] | undefined) ?? []), x.value];
    return q;
  };
  // The answer remembers its question: a new search shows "Loading", a refresh keeps the rows meanwhile.
  const list = useAsync(async (signal) => ({ key: applied, page: await get<EventsPage>(`v1/sources/${encodeURIComponent(sourceId!)}/events`, query(), signal) }), [sourceId, applied]);
  const first = list.data?.key === applied ? list.data.page : undefined;
  const [more, setMore] = useState<EventsPage[]>([]);
  useEffect(() => setMore([]), [list.data]);
  const nextCursor = more.length ? more[more.length - 1].nextCursor : first?.nextCursor;
  const loadMore = useAction(async () => {
    const page = await get<EventsPage>(`v1/sources/${encodeURIComponent(sourceId!)}/events`, query(nextCursor ?? undefined));
    setMore((m) => [...m, page]);
  });
  const items = first ? [first, ...more].flatMap((p) => p.items) : [];

  return (
    <>
      <h1>Explorer</h1>
      <Receipts sourceId={sourceId!} request={lookup} admin={me.kind === 'admin'} />
      <Section
        title="Stored events"
        actions={
          <RefreshButton state={list} />
        }
      >
        <form onSubmit={submit} aria-label="Event filters">
          <div class="filters explorer-filters">
            <Field label="From (your time)">
              <input type="datetime-local" step="1" value={draft.from} onInput={set('from')} />
            </Field>
            <Field label="To (your time)">
              <input type="datetime-local" step="1" value={draft.to} onInput={set('to')} />
            </Field>
            <Field label="Type">
              <select value={draft.type} onChange={set('type')}>
                <option value="">All types</option>
                {EVENT_TYPES.map((t) => (
                  <option key={t} value={t}>
                    {t}
                  </option>
                ))}
              </select>
            </Field>
            <Field label="Event name (track)">
              <input value={draft.event} onInput={set('event')} />
            </Field>
            <Field label="userId">
              <input value={draft.userId} onInput={set('userId')} />
            </Field>
            <Field label="anonymousId">
              <input value={draft.anonymousId} onInput={set('anonymousId')} />
            </Field>
            <Field label="Per page">
              <select value={draft.limit} onChange={set('limit')}>
                {PAGE_SIZES.map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            </Field>
          </div>
          {draft.fields.length > 0 && (
            <fieldset class="field-filters">
              <legend>Field filters (equal to, compared as text)</legend>
              {draft.fields.map((x, i) => (
                <div class="filters" key={i}>
                  <Field label={`Filter ${i + 1}: in`}>
                    <select value={x.column} onChange={value((column) => setField(i, { column: column as FieldFilter['column'] }))}>
                      <option value="properties">properties</option>
                      <option value="context">context</option>
                    </select>
                  </Field>
                  <Field label={`Filter ${i + 1}: field`} hint="Nested names joined by dots, e.g. library.name">
                    <input value={x.path} onInput={value((path) => setField(i, { path }))} placeholder="plan" />
                  </Field>
                  <Field label={`Filter ${i + 1}: value`}>
                    <input value={x.value} onInput={value((v) => setField(i, { value: v }))} />
                  </Field>
                  <button type="button" class="secondary danger" onClick={() => setDraft((d) => ({ ...d, fields: d.fields.filter((_, j) => j !== i) }))}>
                    Remove filter {i + 1}
                  </button>
                </div>
              ))}
            </fieldset>
          )}
          <div class="row">
            <button type="submit">Search</button>
            <button
              type="button"
              class="secondary"
              disabled={draft.fields.length >= MAX_FIELD_FILTERS}
              onClick={() => setDraft((d) => ({ ...d, fields: [...d.fields, { column: 'properties', path: '', value: '' }] }))}
            >
              Add field filter
            </button>
            {applied && (
              <button type="button" class="secondary" onClick={reset}>
                Reset filters
              </button>
            )}
          </div>
        </form>
        {list.error !== undefined ? (
          <ErrorBox error={list.error} />
        ) : !first ? (
          <Loading what="Loading events" />
        ) : items.length === 0 ? (
          <Empty>No stored event matches{applied ? ' these filters' : ' yet: events appear here seconds after the API accepts them'}.</Empty>
        ) : (
          <>
            {list.loading && <Loading what="Refreshing" />}
            <p class="muted" aria-live="polite">
              {items.length.toLocaleString()} event{items.length === 1 ? '' : 's'} shown, newest first{nextCursor ? '; more match' : ''}.
            </p>
            <EventTable items={items} onReceipt={(id) => setLookup((l) => ({ id, n: l.n + 1 }))} />
            <ErrorBox error={loadMore.error} />
            {nextCursor && (
              <button type="button" class="secondary load-more" onClick={() => void loadMore.run()} disabled={loadMore.busy}>
                {loadMore.busy ? 'Loading…' : 'Load more'}
              </button>
            )}
          </>
        )}
      </Section>
    </>
  );
}

function name(e: Record<string, unknown>): string | null {
  const n = e.event ?? e.name;
  return typeof n === 'string' ? n : null;
}

function EventTable({ items, onReceipt }: { items: StoredEvent[]; onReceipt: (messageId: string) => void }) {
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const toggle = (k: string) =>
    setOpen((s) => {
      const n = new Set(s);
      if (n.has(k)) n.delete(k);
      else n.add(k);
      return n;
    });
  return (
    <div class="table-wrap">
      <table class="events">
        <caption class="visually-hidden">Stored events, newest first</caption>
        <thead>
          <tr>
            <th scope="col">
              <span class="visually-hidden">Details</span>
            </th>
            <th scope="col">Timestamp</th>
            <th scope="col">Type</th>
            <th scope="col">Name</th>
            <th scope="col">userId</th>
            <th scope="col">anonymousId</th>
            <th scope="col">messageId</th>
          </tr>
        </thead>
        <tbody>
          {items.map((e, i) => {
            const k = `${e.messageId}\u0000${e.timestamp}\u0000${i}`;
            const id = `ev-${i}`;
            const isOpen = open.has(k);
            return (
              <Fragment key={k}>
                <tr class={isOpen ? 'open' : undefined}>
                  <td>
                    <button type="button" class="secondary expand" aria-expanded={isOpen} aria-controls={isOpen ? id : undefined} onClick={() => toggle(k)}>
                      {isOpen ? 'Hide' : 'Show'}
                      <span class="visually-hidden">
                        {' '}
                        JSON of {e.type} {name(e) ?? ''} {e.messageId}
                      </span>
                    </button>
                  </td>
                  <td class="nowrap">
                    <time dateTime={e.timestamp}>{fmtTime(e.timestamp)}</time>
                  </td>
                  <td>
                    <span class="badge">{e.type}</span>
                  </td>
                  <td>{name(e) ?? <span class="muted">—</span>}</td>
                  <td class="wrap">{(e.userId as string | null) ?? <span class="muted">—</span>}</td>
                  <td class="wrap">{(e.anonymousId as string | null) ?? <span class="muted">—</span>}</td>
                  <td class="mono wrap">{e.messageId}</td>
                </tr>
                {isOpen && (
                  <tr id={id} class="detail">
                    <td colSpan={7}>
                      <div class="row">
                        <CopyButton text={JSON.stringify(e, null, 2)} label="Copy JSON" />
                        <button type="button" class="secondary" onClick={() => onReceipt(e.messageId)}>
                          Look up its receipt
                        </button>
                      </div>
                      <Json value={e} label={`Event ${e.messageId}`} />
                    </td>
                  </tr>
                )}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** messageId → where the event is: stored, dead-lettered, or neither (the API's 404 says which cases that can be). */
function Receipts({ sourceId, request, admin }: { sourceId: string; request: { id: string; n: number }; admin: boolean }) {
  const [messageId, setMessageId] = useState(request.id);
  const input = useRef<HTMLInputElement>(null);
  const [answer, setAnswer] = useState<ReceiptAnswer | null>(null);
  const look = useAction(async (id: string) => {
    setAnswer(null);
    try {
      setAnswer(await get<Receipt>(`v1/sources/${encodeURIComponent(sourceId)}/events/${encodeURIComponent(id)}`));
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        const reason = (e.body as { reason?: string } | null)?.reason;
        setAnswer({ messageId: id, status: 'not_found', message: e.message, reason });
      } else throw e;
    }
  });
  // A row's "Look up its receipt" (or #/explorer?messageId=...) asks here.
  useEffect(() => {
    if (!request.id) return;
    setMessageId(request.id);
    void look.run(request.id);
    if (request.n > 0) {
      input.current?.scrollIntoView({ block: 'center' });
      input.current?.focus();
    }
  }, [request.n]);

  return (
    <Section title="Receipt lookup">
      <form
        class="filters"
        aria-label="Receipt lookup"
        onSubmit={(e) => {
          e.preventDefault();
          if (messageId.trim()) void look.run(messageId.trim());
        }}
      >
        <Field label="messageId" hint="Where is this event? Stored, dead-lettered, or not (yet) known">
          <input ref={input} value={messageId} onInput={value(setMessageId)} class="mono" spellcheck={false} />
        </Field>
        <button type="submit" disabled={look.busy || !messageId.trim()}>
          {look.busy ? 'Looking…' : 'Look up'}
        </button>
      </form>
      <ErrorBox error={look.error} />
      {look.busy && <Loading what="Looking the receipt up" />}
      {answer && <ReceiptView answer={answer} admin={admin} />}
    </Section>
  );
}

function ReceiptView({ answer, admin }: { answer: ReceiptAnswer; admin: boolean }) {
  if (answer.status === 'not_found') {
    const gone = answer.reason === 'no_longer_held';
    return (
      <div class="receipt" role="status">
        <p>
          <span class="badge warn">{gone ? 'No longer held' : 'Unknown'}</span> <code>{answer.messageId}</code>
        </p>
        <p>{answer.message}</p>
      </div>
    );
  }
  if (answer.status === 'dead_lettered') {
    const dl = answer.deadLetter;
    return (
      <div class="receipt" role="status">
        <p>
          <span class="badge bad">Dead-lettered</span> <code>{answer.messageId}</code>
        </p>
        <DeadLetterFacts dl={dl} />
        {admin ? (
          <p>
            <a href={href('dead-letters', [dl.id])}>Open dead letter {dl.id}</a> to inspect, fix and replay it.
          </p>
        ) : (
          <p class="muted">An admin can fix and replay it on the Dead letters page (dead letter {dl.id}).</p>
        )}
      </div>
    );
  }
  return (
    <div class="receipt" role="status">
      <p>
        <span class="badge ok">Stored</span> <code>{answer.messageId}</code> at {fmtTime(answer.event.timestamp)}
      </p>
      {answer.deadLetter && (
        <>
          <p class="muted">It was dead-lettered first, then replayed:</p>
          <DeadLetterFacts dl={answer.deadLetter} />
        </>
      )}
      <Json value={answer.event} label={`Stored event ${answer.messageId}`} />
    </div>
  );
}

function DeadLetterFacts({ dl }: { dl: DeadLetterInfo }) {
  return (
    <dl class="facts">
      <dt>Reason</dt>
      <dd>
        <code>{dl.reasonCode}</code> {dl.reason}
      </dd>
      <dt>Dead-lettered</dt>
      <dd>{fmtTime(dl.deadLetteredAt)}</dd>
      <dt>Dead letter id</dt>
      <dd>
        <code>{dl.id}</code>
      </dd>
    </dl>
  );
}
