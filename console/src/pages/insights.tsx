// Insights: counts and unique users over time, top events, funnels and retention
// (the /v1/sources/:id/stats routes), each with loading, empty and error states.
import { useMemo, useState } from 'preact/hooks';
import { get, post } from '../api';
import { TimeChart, type Series } from '../chart';
import { type Async, Empty, ErrorBox, Field, fmtNumber, Loaded, Loading, Section, useAction, useAsync, value } from '../components';
import { TableWrap } from './insights-table';
import type { PageProps } from './types';
import './data-pages.css';

const BROWSER_TZ = (() => {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
})();
const ZONES = [
  'UTC',
  'America/Los_Angeles',
  'America/Denver',
  'America/Chicago',
  'America/New_York',
  'America/Sao_Paulo',
  'Europe/London',
  'Europe/Paris',
  'Europe/Berlin',
  'Europe/Moscow',
  'Africa/Johannesburg',
  'Asia/Dubai',
  'Asia/Kolkata',
  'Asia/Singapore',
  'Asia/Shanghai',
  'Asia/Tokyo',
  'Australia/Sydney',
  'Pacific/Auckland',
];

const PRESETS = [
  { id: '1h', label: 'Last hour', ms: 3_600_000 },
  { id: '24h', label: 'Last 24 hours', ms: 86_400_000 },
  { id: '7d', label: 'Last 7 days', ms: 7 * 86_400_000 },
  { id: '30d', label: 'Last 30 days', ms: 30 * 86_400_000 },
  { id: '90d', label: 'Last 90 days', ms: 90 * 86_400_000 },
];

/** The question every section answers for: an exact from–to (presets resolved at Apply/Refresh) and a zone. */
interface Range {
  from: string;
  to: string;
  tz: string;
  preset: string;
}

interface RangeForm {
  preset: string;
  from: string;
  to: string;
  tz: string;
}

function resolve(f: RangeForm): Range {
  const p = PRESETS.find((x) => x.id === f.preset);
  if (p) {
    // To the next whole second: the events of this second count, and the question stays cacheable.
    const to = Math.ceil(Date.now() / 1000) * 1000;
    return { from: new Date(to - p.ms).toISOString(), to: new Date(to).toISOString(), tz: f.tz, preset: f.preset };
  }
  const iso = (local: string) => {
    const d = new Date(local);
    return local && !Number.isNaN(d.getTime()) ? d.toISOString() : local;
  };
  return { from: iso(f.from), to: iso(f.to), tz: f.tz, preset: 'custom' };
}

const spanMs = (r: Range) => Date.parse(r.to) - Date.parse(r.from);

function pct(ratio: number): string {
  return `${(ratio * 100).toLocaleString(undefined, { maximumFractionDigits: 1 })}%`;
}

function fmtDuration(s: number | null): string {
  if (s === null) return '—';
  if (Math.round(s * 10) / 10 < 60) return `${s.toLocaleString(undefined, { maximumFractionDigits: 1 })} s`;
  if (s < 3600) return `${(s / 60).toLocaleString(undefined, { maximumFractionDigits: 1 })} min`;
  if (s < 86400) return `${(s / 3600).toLocaleString(undefined, { maximumFractionDigits: 1 })} h`;
  return `${(s / 86400).toLocaleString(undefined, { maximumFractionDigits: 1 })} d`;
}

/** A bucket start as the zone's wall clock. */
function fmtBucket(iso: string, tz: string, interval: string): string {
  const d = new Date(iso);
  const withTime = interval === 'minute' || interval === 'hour';
  try {
    return d.toLocaleString(undefined, { timeZone: tz, year: 'numeric', month: 'short', day: 'numeric', ...(withTime ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' } : {}) });
  } catch {
    return iso;
  }
}

const base = (sourceId: string) => `v1/sources/${encodeURIComponent(sourceId)}/stats`;

export function InsightsPage({ sourceId }: PageProps) {
  const [form, setForm] = useState<RangeForm>({ preset: '24h', from: '', to: '', tz: BROWSER_TZ });
  const [range, setRange] = useState<Range>(() => resolve(form));
  const zones = useMemo(() => (ZONES.includes(BROWSER_TZ) ? ZONES : [BROWSER_TZ, ...ZONES]), []);
  const apply = (e: Event) => {
    e.preventDefault();
    setRange(resolve(form));
  };
  const src = sourceId!;
  const top = useAsync((signal) => get<TopEvents>(`${base(src)}/top-events`, { from: range.from, to: range.to, limit: 100 }, signal), [src, range]);
  const names = top.data?.events.map((e) => e.event) ?? [];

  return (
    <>
      <h1>Insights</h1>
      <form class="card filters insights-range" onSubmit={apply} aria-label="Time range">
        <Field label="Range">
          <select value={form.preset} onChange={value((preset) => setForm({ ...form, preset }))}>
            {PRESETS.map((p) => (
              <option key={p.id} value={p.id}>
                {p.label}
              </option>
            ))}
            <option value="custom">Custom…</option>
          </select>
        </Field>
        {form.preset === 'custom' && (
          <>
            <Field label="From (your time)">
              <input type="datetime-local" required value={form.from} onInput={value((from) => setForm({ ...form, from }))} />
            </Field>
            <Field label="To (your time)">
              <input type="datetime-local" required value={form.to} onInput={value((to) => setForm({ ...form, to }))} />
            </Field>
          </>
        )}
        <Field label="Time zone of the buckets">
          <select value={form.tz} onChange={value((tz) => setForm({ ...form, tz }))}>
            {zones.map((z) => (
              <option key={z} value={z}>
                {z === BROWSER_TZ ? `${z} (this browser)` : z}
              </option>
            ))}
          </select>
        </Field>
        <button type="submit">Apply / refresh</button>
      </form>
      <p class="muted">
        From {new Date(range.from).toLocaleString()} to {new Date(range.to).toLocaleString()} (your time); buckets in {range.tz}.
      </p>
      <datalist id="insights-event-names">
        {names.map((n) => (
          <option key={n} value={n} />
        ))}
      </datalist>
      <Counts sourceId={src} range={range} />
      <Uniques sourceId={src} range={range} />
      <TopEventsSection top={top} />
      <Funnel sourceId={src} range={range} />
      <Retention sourceId={src} range={range} />
    </>
  );
}

// ---- counts ----

interface Counts {
  interval: string;
  tz: string;
  read: string;
  buckets: { start: string; count: number; groups?: Record<string, number> }[];
}

function autoInterval(r: Range, allowed: string[]): string {
  const ms = spanMs(r);
  const pick = ms <= 3 * 3_600_000 ? 'minute' : ms <= 8 * 86_400_000 ? 'hour' : ms <= 120 * 86_400_000 ? 'day' : 'week';
  return allowed.includes(pick) ? pick : allowed.find((a) => a !== 'minute') ?? allowed[0];
}

const MAX_SERIES = 8;

function Counts({ sourceId, range }: { sourceId: string; range: Range }) {
  const [interval, setIv] = useState('auto');
  const [groupBy, setGroupBy] = useState('');
  const [type, setType] = useState('');
  const [eventDraft, setEventDraft] = useState('');
  const [event, setEvent] = useState('');
  const iv = interval === 'auto' ? autoInterval(range, ['minute', 'hour', 'day']) : interval;
  const state = useAsync(
    (signal) =>
      get<Counts>(`${base(sourceId)}/counts`, { from: range.from, to: range.to, tz: range.tz, interval: iv, groupBy: groupBy || undefined, type: type || undefined, event: event || undefined }, signal),
    [sourceId, range, iv, groupBy, type, event],
  );
  return (
    <Section title="Events over time">
      <form
        class="filters"
        aria-label="Count options"
        onSubmit={(e) => {
          e.preventDefault();
          setEvent(eventDraft.trim());
        }}
      >
        <Field label="Interval">
          <select value={interval} onChange={value(setIv)}>
            <option value="auto">Auto ({autoInterval(range, ['minute', 'hour', 'day'])})</option>
            <option value="minute">minute</option>
            <option value="hour">hour</option>
            <option value="day">day</option>
          </select>
        </Field>
        <Field label="Group by">
          <select value={groupBy} onChange={value(setGroupBy)}>
            <option value="">Nothing (all events)</option>
            <option value="event">Event name</option>
            <option value="type">Call type</option>
          </select>
        </Field>
        <Field label="Only type">
          <select value={type} onChange={value(setType)}>
            <option value="">All types</option>
            {['track', 'identify', 'page', 'screen', 'group', 'alias'].map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Only event (track)">
          <input value={eventDraft} list="insights-event-names" onInput={value(setEventDraft)} onChange={value((v) => setEvent(v.trim()))} />
        </Field>
        <button type="submit">Filter</button>
      </form>
      <Loaded state={state} what="Counting events">
        {(data) => <CountsView data={data} groupBy={groupBy} loading={state.loading} />}
      </Loaded>
    </Section>
  );
}

function CountsView({ data, groupBy, loading }: { data: Counts; groupBy: string; loading: boolean }) {
  const { x, series, total } = useMemo(() => {
    const x = data.buckets.map((b) => Date.parse(b.start) / 1000);
    const total = data.buckets.reduce((n, b) => n + b.count, 0);
    if (!groupBy) return { x, total, series: [{ label: 'Events', values: data.buckets.map((b) => b.count) }] as Series[] };
    const sums = new Map<string, number>();
    for (const b of data.buckets) for (const [k, n] of Object.entries(b.groups ?? {})) sums.set(k, (sums.get(k) ?? 0) + n);
    const keys = [...sums.entries()].sort((a, b) => b[1] - a[1]).map(([k]) => k);
    const shown = keys.slice(0, MAX_SERIES);
    const rest = keys.slice(MAX_SERIES);
    const label = (k: string) => (k === '' ? '(no name)' : k);
    const series: Series[] = shown.map((k) => ({ label: label(k), values: data.buckets.map((b) => b.groups?.[k] ?? 0) }));
    if (rest.length) series.push({ label: `${rest.length} others`, values: data.buckets.map((b) => rest.reduce((n, k) => n + (b.groups?.[k] ?? 0), 0)) });
    return { x, total, series };
  }, [data, groupBy]);
  return (
    <>
      {loading && <Loading what="Refreshing" />}
      <p>
        <strong class="counts-total">{fmtNumber(total)}</strong> event{total === 1 ? '' : 's'} in {fmtNumber(data.buckets.length)} {data.interval} buckets ({data.tz}).
      </p>
      {total === 0 ? (
        <Empty>No event in this range.</Empty>
      ) : (
        <TimeChart x={x} series={series} label={`Events per ${data.interval}${groupBy ? ` by ${groupBy}` : ''}; the table view below has the numbers`} />
      )}
      <details class="table-view">
        <summary>Table view: events per {data.interval}</summary>
        <TableWrap label="Events per bucket" tall>
          <table class="counts">
            <thead>
              <tr>
                <th scope="col">Bucket ({data.tz})</th>
                {series.length > 1 &&
                  series.map((s) => (
                    <th scope="col" class="num" key={s.label}>
                      {s.label}
                    </th>
                  ))}
                <th scope="col" class="num">
                  Total
                </th>
              </tr>
            </thead>
            <tbody>
              {data.buckets.map((b, i) => (
                <tr key={b.start}>
                  <th scope="row">{fmtBucket(b.start, data.tz, data.interval)}</th>
                  {series.length > 1 &&
                    series.map((s) => (
                      <td class="num" key={s.label}>
                        {fmtNumber(s.values[i])}
                      </td>
                    ))}
                  <td class="num">{fmtNumber(b.count)}</td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row">Total</th>
                {series.length > 1 &&
                  series.map((s) => (
                    <td class="num" key={s.label}>
                      {fmtNumber(s.values.reduce<number>((n, v) => n + (v ?? 0), 0))}
                    </td>
                  ))}
                <td class="num total">{fmtNumber(total)}</td>
              </tr>
            </tfoot>
          </table>
        </TableWrap>
      </details>
    </>
  );
}

// ---- uniques ----

interface Uniques {
  interval: string;
  tz: string;
  buckets: { start: string; users: number }[];
}

function Uniques({ sourceId, range }: { sourceId: string; range: Range }) {
  const [interval, setIv] = useState('auto');
  const allowed = ['hour', 'day', 'week', 'month'];
  const iv = interval === 'auto' ? autoInterval(range, allowed) : interval;
  const state = useAsync((signal) => get<Uniques>(`${base(sourceId)}/uniques`, { from: range.from, to: range.to, tz: range.tz, interval: iv }, signal), [sourceId, range, iv]);
  return (
    <Section title="Unique users over time">
      <div class="filters">
        <Field label="Interval" hint="Users are userId, else anonymousId; exact counts">
          <select value={interval} onChange={value(setIv)}>
            <option value="auto">Auto ({autoInterval(range, allowed)})</option>
            {allowed.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <Loaded state={state} what="Counting users">
        {(data) => {
          const any = data.buckets.some((b) => b.users > 0);
          return (
            <>
              {any ? (
                <TimeChart x={data.buckets.map((b) => Date.parse(b.start) / 1000)} series={[{ label: 'Users', values: data.buckets.map((b) => b.users) }]} label={`Unique users per ${data.interval}; the table view below has the numbers`} />
              ) : (
                <Empty>No user was active in this range.</Empty>
              )}
              <details class="table-view">
                <summary>Table view: users per {data.interval}</summary>
                <TableWrap label="Users per bucket" tall>
                  <table class="uniques">
                    <thead>
                      <tr>
                        <th scope="col">Bucket ({data.tz})</th>
                        <th scope="col" class="num">
                          Users
                        </th>
                      </tr>
                    </thead>
                    <tbody>
                      {data.buckets.map((b) => (
                        <tr key={b.start}>
                          <th scope="row">{fmtBucket(b.start, data.tz, data.interval)}</th>
                          <td class="num">{fmtNumber(b.users)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </TableWrap>
              </details>
            </>
          );
        }}
      </Loaded>
    </Section>
  );
}

// ---- top events ----

interface TopEvents {
  events: { event: string; count: number; users: number }[];
}

function TopEventsSection({ top }: { top: Async<TopEvents> }) {
  const [shown, setShown] = useState(10);
  return (
    <Section title="Top events">
      <Loaded state={top} what="Loading top events">
        {(data) => {
          if (data.events.length === 0) return <Empty>No track event in this range.</Empty>;
          const max = Math.max(...data.events.map((e) => e.count));
          return (
            <>
              <TableWrap label="Top events">
                <table class="top-events">
                  <thead>
                    <tr>
                      <th scope="col">Event</th>
                      <th scope="col" class="num">
                        Count
                      </th>
                      <th scope="col" class="num">
                        Users
                      </th>
                      <th scope="col" class="bar-col">
                        <span class="visually-hidden">Share</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.events.slice(0, shown).map((e) => (
                      <tr key={e.event}>
                        <th scope="row" class="wrap">
                          {e.event}
                        </th>
                        <td class="num">{fmtNumber(e.count)}</td>
                        <td class="num">{fmtNumber(e.users)}</td>
                        <td class="bar-col">
                          <Bar ratio={max ? e.count / max : 0} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableWrap>
              {data.events.length > shown && (
                <button type="button" class="secondary load-more" onClick={() => setShown((n) => n + 20)}>
                  Show more ({data.events.length - shown} more)
                </button>
              )}
            </>
          );
        }}
      </Loaded>
    </Section>
  );
}

/** A decorative bar (the number is in the table beside it). */
function Bar({ ratio }: { ratio: number }) {
  return (
    <span class="bar" aria-hidden="true">
      <span class="bar-fill" style={{ width: `${Math.max(0, Math.min(1, ratio)) * 100}%` }} />
    </span>
  );
}

// ---- funnel ----

interface FunnelResult {
  window: string;
  steps: { event: string; users: number; conversion: number; fromPrevious: number; medianSecondsFromPrevious: number | null }[];
}

function Funnel({ sourceId, range }: { sourceId: string; range: Range }) {
  const [steps, setSteps] = useState<string[]>(['', '']);
  const [win, setWin] = useState('1');
  const [unit, setUnit] = useState('d');
  const [result, setResult] = useState<{ data: FunnelResult; range: Range } | null>(null);
  const run = useAction(async () => {
    const body = { steps: steps.map((event) => ({ event: event.trim() })), window: `${win.trim()}${unit}`, from: range.from, to: range.to };
    setResult({ data: await post<FunnelResult>(`${base(sourceId)}/funnel`, body), range });
  });
  const submit = (e: Event) => {
    e.preventDefault();
    void run.run();
  };
  return (
    <Section title="Funnel">
      <form onSubmit={submit} aria-label="Funnel" class="funnel-form">
        <p class="muted">Users who did each track event in order, within the window of their first step (first steps in the range above).</p>
        <ol class="funnel-steps">
          {steps.map((s, i) => (
            <li key={i} class="row">
              <Field label={`Step ${i + 1} event`}>
                <input value={s} required list="insights-event-names" onInput={value((v) => setSteps(steps.map((x, j) => (j === i ? v : x))))} />
              </Field>
              {steps.length > 2 && (
                <button type="button" class="secondary danger" onClick={() => setSteps(steps.filter((_, j) => j !== i))}>
                  Remove step {i + 1}
                </button>
              )}
            </li>
          ))}
        </ol>
        <div class="filters">
          <Field label="Window">
            <input type="number" min={1} max={99999} required value={win} onInput={value(setWin)} />
          </Field>
          <Field label="Window unit">
            <select value={unit} onChange={value(setUnit)}>
              <option value="m">minutes</option>
              <option value="h">hours</option>
              <option value="d">days</option>
            </select>
          </Field>
        </div>
        <div class="row">
          <button type="button" class="secondary" disabled={steps.length >= 5} onClick={() => setSteps([...steps, ''])}>
            Add step
          </button>
          <button type="submit" disabled={run.busy}>
            {run.busy ? 'Running…' : 'Run funnel'}
          </button>
        </div>
      </form>
      <ErrorBox error={run.error} />
      {run.busy && <Loading what="Running the funnel" />}
      {!result && !run.busy && !run.error && <Empty>Name 2 to 5 events and run the funnel.</Empty>}
      {result && <FunnelView result={result.data} range={result.range} />}
    </Section>
  );
}

function FunnelView({ result, range }: { result: FunnelResult; range: Range }) {
  const first = result.steps[0]?.users ?? 0;
  return (
    <div class="funnel-result">
      <p class="muted">
        Window {result.window}; first steps from {new Date(range.from).toLocaleString()} to {new Date(range.to).toLocaleString()}.
      </p>
      {first === 0 && <Empty>No user did “{result.steps[0]?.event}” in this range.</Empty>}
      <TableWrap label="Funnel steps">
        <table class="funnel">
          <caption class="visually-hidden">Funnel result</caption>
          <thead>
            <tr>
              <th scope="col">Step</th>
              <th scope="col">Event</th>
              <th scope="col" class="num">
                Users
              </th>
              <th scope="col" class="num">
                From first
              </th>
              <th scope="col" class="num">
                From previous
              </th>
              <th scope="col" class="num">
                Median time from previous
              </th>
              <th scope="col" class="bar-col">
                <span class="visually-hidden">Conversion bar</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {result.steps.map((s, i) => (
              <tr key={i}>
                <td>{i + 1}</td>
                <th scope="row" class="wrap">
                  {s.event}
                </th>
                <td class="num">{fmtNumber(s.users)}</td>
                <td class="num">{pct(s.conversion)}</td>
                <td class="num">{i === 0 ? '—' : pct(s.fromPrevious)}</td>
                <td class="num">{fmtDuration(s.medianSecondsFromPrevious)}</td>
                <td class="bar-col">
                  <Bar ratio={s.conversion} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
    </div>
  );
}

// ---- retention ----

interface RetentionResult {
  interval: 'day' | 'week';
  tz: string;
  cohorts: { start: string; users: number; returned: number[]; rates: number[] }[];
}

/** 0..8: the shade of a retention cell (CSS classes heat-0..heat-8). */
const heat = (rate: number) => (rate <= 0 ? 0 : 1 + Math.min(7, Math.floor(rate * 8)));

function Retention({ sourceId, range }: { sourceId: string; range: Range }) {
  const [cohortEvent, setCohortEvent] = useState('');
  const [returnEvent, setReturnEvent] = useState('');
  const [interval, setIv] = useState<'day' | 'week'>('day');
  const [periods, setPeriods] = useState('7');
  const [result, setResult] = useState<RetentionResult | null>(null);
  const run = useAction(async () => {
    const body = { cohortEvent: cohortEvent.trim(), returnEvent: returnEvent.trim(), interval, periods: Number(periods), from: range.from, to: range.to, tz: range.tz };
    setResult(await post<RetentionResult>(`${base(sourceId)}/retention`, body));
  });
  return (
    <Section title="Retention">
      <form
        aria-label="Retention"
        onSubmit={(e) => {
          e.preventDefault();
          void run.run();
        }}
      >
        <p class="muted">Cohorts of users by the {interval} of their first “cohort” event in the range; the share of each that did the “return” event in each later {interval} (“—”: the period has not begun, or the cohort is empty).</p>
        <div class="filters">
          <Field label="Cohort event">
            <input value={cohortEvent} required list="insights-event-names" onInput={value(setCohortEvent)} placeholder="Signed Up" />
          </Field>
          <Field label="Return event">
            <input value={returnEvent} required list="insights-event-names" onInput={value(setReturnEvent)} placeholder="Order Completed" />
          </Field>
          <Field label="Period">
            <select value={interval} onChange={value((v) => setIv(v as 'day' | 'week'))}>
              <option value="day">day</option>
              <option value="week">week</option>
            </select>
          </Field>
          <Field label="Periods">
            <input type="number" min={1} max={12} required value={periods} onInput={value(setPeriods)} />
          </Field>
          <button type="submit" disabled={run.busy}>
            {run.busy ? 'Running…' : 'Show retention'}
          </button>
        </div>
      </form>
      <ErrorBox error={run.error} />
      {run.busy && <Loading what="Computing retention" />}
      {!result && !run.busy && !run.error && <Empty>Choose a cohort event and a return event.</Empty>}
      {result && <RetentionGrid result={result} />}
    </Section>
  );
}

function RetentionGrid({ result }: { result: RetentionResult }) {
  if (!result.cohorts.some((c) => c.users > 0)) return <Empty>No user did the cohort event in this range.</Empty>;
  // A period that has not begun yet shows "—", not 0%.
  const unit = (result.interval === 'day' ? 1 : 7) * 86_400_000;
  const now = Date.now();
  const n = result.cohorts[0].rates.length;
  const label = result.interval === 'day' ? 'Day' : 'Week';
  return (
    <TableWrap label="Retention by cohort">
      <table class="retention">
        <caption class="visually-hidden">Retention by cohort ({result.tz})</caption>
        <thead>
          <tr>
            <th scope="col">Cohort ({result.tz})</th>
            <th scope="col" class="num">
              Users
            </th>
            {Array.from({ length: n }, (_, i) => (
              <th scope="col" class="num" key={i}>
                {label} {i + 1}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {result.cohorts.map((c) => (
            <tr key={c.start}>
              <th scope="row">{fmtBucket(c.start, result.tz, result.interval)}</th>
              <td class="num">{fmtNumber(c.users)}</td>
              {c.rates.map((r, i) =>
                c.users === 0 || Date.parse(c.start) + (i + 1) * unit > now ? (
                  <td key={i} class="num heat future">
                    —<span class="visually-hidden"> ({c.users === 0 ? 'empty cohort' : 'not yet'})</span>
                  </td>
                ) : (
                  <td key={i} class={`num heat heat-${heat(r)}`} title={`${fmtNumber(c.returned[i])} of ${fmtNumber(c.users)}`}>
                    {pct(r)}
                    <span class="visually-hidden"> ({fmtNumber(c.returned[i])} users)</span>
                  </td>
                ),
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}
