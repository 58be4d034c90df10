// What the Sources and Keys pages share: the API's key and source shapes, a key's status, the
// one-time display of a new secret, and the rotate / revoke buttons with their confirmations.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ConfirmButton, CopyButton, fmtTime } from '../components';
import './admin-pages.css';

/** KeySummaryDto (src/sources/sources.dto.ts): never a secret. */
export interface KeySummary {
  id: string;
  keyId: string;
  kind: 'write' | 'read' | 'admin';
  prefix: string;
  name: string | null;
  sourceId: string | null;
  sourceIds: string[] | null;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  rotatedFrom: string | null;
}
/** CreatedKeyDto: the secret, shown once. */
export interface CreatedKey extends KeySummary {
  key: string;
}
/** RotatedKeyDto: the successor, and when its predecessor stops working. */
export interface RotatedKey extends CreatedKey {
  previousKeyExpiresAt: string;
}

/** SourceDto. */
export interface SourceView {
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
  limits: { rateLimitRps: number | null; rateLimitEps: number | null; dailyEventQuota: number | null };
  retention: { retentionDays: number | null; effectiveDays: number };
  writeKeys: KeySummary[];
}

/** A compact date and time for table cells, the full one in its title (and for screen readers). */
export function When({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span class="muted">—</span>;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return <>{iso}</>;
  return (
    <time class="when" dateTime={iso} title={fmtTime(iso)}>
      {d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' })}
    </time>
  );
}

export function keyStatus(k: KeySummary, now = Date.now()): { label: string; tone: 'ok' | 'bad' | 'warn' } {
  if (k.revokedAt) return { label: 'revoked', tone: 'bad' };
  if (k.expiresAt && Date.parse(k.expiresAt) <= now) return { label: 'expired', tone: 'bad' };
  if (k.expiresAt) return { label: 'expiring', tone: 'warn' };
  return { label: 'active', tone: 'ok' };
}

export const isLive = (k: KeySummary) => keyStatus(k).tone !== 'bad';

export function KeyStatus({ k }: { k: KeySummary }) {
  const s = keyStatus(k);
  return <span class={`badge ${s.tone}`}>{s.label}</span>;
}

/** A secret the API returns once: shown with a Copy button and the warning that it will not come back. */
export function OneTimeKey({ title, secret, children, onDone }: { title: string; secret: string; children?: ComponentChildren; onDone: () => void }) {
  return (
    <section class="card one-time" aria-label={title}>
      <div class="card-head">
        <h2>{title}</h2>
        <button type="button" class="secondary" onClick={onDone}>
          Done, hide the key
        </button>
      </div>
      <p class="warning">Copy this key now: it will not be shown again (only a hash of it is stored).</p>
      <div class="secret-row">
        <code class="secret" aria-label="The new key">
          {secret}
        </code>
        <CopyButton text={secret} label="Copy key" />
      </div>
      {children}
    </section>
  );
}

/** How long a rotated key keeps working (RotateKeyDto.overlapSeconds, 0-2592000, default 3600). */
export const OVERLAPS: { seconds: number; label: string }[] = [
  { seconds: 0, label: 'Stop at once' },
  { seconds: 300, label: '5 minutes' },
  { seconds: 3600, label: '1 hour (default)' },
  { seconds: 86_400, label: '24 hours' },
  { seconds: 7 * 86_400, label: '7 days' },
  { seconds: 30 * 86_400, label: '30 days' },
];

let uid = 0;

/** Rotate and Revoke for one key, each behind a confirmation naming it; `me` marks the console's own key. */
export function KeyActions({ k, isMine, onRotate, onRevoke }: { k: KeySummary; isMine: boolean; onRotate: (k: KeySummary, overlapSeconds: number) => Promise<unknown>; onRevoke: (k: KeySummary) => Promise<unknown> }) {
  const [overlap, setOverlap] = useState(3600);
  const [id] = useState(() => `overlap-${++uid}`);
  const label = k.name ? `“${k.name}” (${k.prefix}…)` : `${k.prefix}…`;
  if (k.revokedAt) return <span class="muted">—</span>;
  return (
    <div class="row nowrap">
      <ConfirmButton
        danger={false}
        confirmLabel="Rotate key"
        onConfirm={() => void onRotate(k, overlap)}
        message={
          <>
            Issue a successor to the {k.kind} key {label}? It gets the same kind, name and scope; the new secret is shown once.
            {isMine && ' This console is signed in with this key: paste the new one before the old one stops.'}
            <span class="field dialog-field">
              <label for={id}>The old key keeps working for</label>
              <select id={id} value={String(overlap)} onChange={(e) => setOverlap(Number(e.currentTarget.value))}>
                {OVERLAPS.map((o) => (
                  <option key={o.seconds} value={String(o.seconds)}>
                    {o.label}
                  </option>
                ))}
              </select>
            </span>
          </>
        }
      >
        Rotate
      </ConfirmButton>
      <ConfirmButton
        confirmLabel="Revoke key"
        onConfirm={() => void onRevoke(k)}
        message={
          <>
            Revoke the {k.kind} key {label}? Every api refuses it within seconds; this cannot be undone.
            {isMine && ' This console is signed in with this key: it will ask for another one.'}
          </>
        }
      >
        Revoke
      </ConfirmButton>
    </div>
  );
}

/** The lines under a rotated key's secret. */
export function RotatedNote({ r }: { r: RotatedKey }) {
  return (
    <p>
      The old key keeps working until <b>{fmtTime(r.previousKeyExpiresAt)}</b>; switch your clients to the new one before then.
    </p>
  );
}
