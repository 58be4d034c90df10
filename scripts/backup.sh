#!/usr/bin/env bash
# Logical backup of the Sluice database: one pg_dump (custom format, compressed) and a checksum
# manifest, both taken from ONE exported snapshot, so the manifest describes exactly what the
# dump holds even while the workers keep writing.
#
#   DATABASE_URL=postgres://... bash scripts/backup.sh [--dir DIR] [--keep N] [--s3 URI] [--s3-keep N]
#
# Writes DIR/sluice-<UTC timestamp>.dump and DIR/sluice-<UTC timestamp>.manifest.json (the
# manifest last: a dump without a manifest is not a finished backup). Each file is written as
# *.partial and renamed once complete. With an S3 URI (--s3 or BACKUP_S3_URI) both are copied
# there with `aws s3 cp`, the manifest last. Retention: the newest N backups are kept locally
# (BACKUP_KEEP_LOCAL, default 7; 0 keeps all) and in S3 (BACKUP_KEEP_S3, default 30; 0 keeps all).
# Runbook: docs/runbooks/backup-restore.md.
set -euo pipefail

TOOL=backup
USAGE_LINES=2,13
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

OUT_DIR="${BACKUP_DIR:-./backups}"
KEEP_LOCAL="${BACKUP_KEEP_LOCAL:-7}"
S3_URI="${BACKUP_S3_URI:-}"
KEEP_S3="${BACKUP_KEEP_S3:-30}"
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) OUT_DIR="${2:?--dir needs a directory}"; shift 2 ;;
    --keep) KEEP_LOCAL="${2:?--keep needs a number}"; shift 2 ;;
    --s3) S3_URI="${2:?--s3 needs an s3:// URI}"; shift 2 ;;
    --s3-keep) KEEP_S3="${2:?--s3-keep needs a number}"; shift 2 ;;
    -h | --help) usage ;;
    *) echo "backup: unknown argument '$1'" >&2; usage ;;
  esac
done

[ -n "${DATABASE_URL:-}" ] || die "DATABASE_URL is not set (postgres://user:password@host:5432/db)"
[[ "$KEEP_LOCAL" =~ ^[0-9]+$ ]] || die "--keep / BACKUP_KEEP_LOCAL must be a whole number, got '$KEEP_LOCAL'"
[[ "$KEEP_S3" =~ ^[0-9]+$ ]] || die "--s3-keep / BACKUP_KEEP_S3 must be a whole number, got '$KEEP_S3'"
[ -z "$S3_URI" ] || [[ "$S3_URI" =~ ^s3://[^/]+ ]] || die "the S3 URI must look like s3://bucket/prefix, got '$S3_URI'"
S3_URI="${S3_URI%/}"
require_tools pg_dump psql jq sha256sum
[ -z "$S3_URI" ] || command -v aws > /dev/null || die "aws (awscli) is not on PATH, and an S3 URI was given"

mkdir -p "$OUT_DIR"
OUT_DIR="$(cd "$OUT_DIR" && pwd)"
NAME="sluice-$(date -u +%Y%m%dT%H%M%SZ)"
DUMP="$OUT_DIR/$NAME.dump"
MANIFEST="$OUT_DIR/$NAME.manifest.json"
SUMS="$OUT_DIR/$NAME.checksums.partial"
[ ! -e "$DUMP" ] && [ ! -e "$MANIFEST" ] || die "$DUMP already exists"

PSQL=(psql "$DATABASE_URL" -X -q -At -v ON_ERROR_STOP=1)
snap_pid=""
cleanup() {
  local rc=$?
  if [ -n "$snap_pid" ]; then
    kill "$snap_pid" 2> /dev/null || true
    wait "$snap_pid" 2> /dev/null || true
  fi
  rm -f "$DUMP.partial" "$MANIFEST.partial" "$SUMS"
  [ $rc -eq 0 ] || echo "backup: FAILED (exit $rc); no complete backup named $NAME was written" >&2
}
trap cleanup EXIT

started=$EPOCHREALTIME
# The snapshot: a psql coprocess opens a REPEATABLE READ transaction, exports its snapshot and
# holds it open until the dump and the checksums have both been taken from it.
coproc SNAP { "${PSQL[@]}" 2>&1; }
snap_pid=$SNAP_PID
printf '%s\n' "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;" "SELECT pg_export_snapshot();" >&"${SNAP[1]}"
snapshot=""
IFS= read -r -t 60 snapshot <&"${SNAP[0]}" || true
[[ "$snapshot" =~ ^[0-9A-F]+-[0-9A-F]+-[0-9]+$ ]] || die "could not export a snapshot: ${snapshot:-no answer from psql within 60 s}"
log "snapshot $snapshot exported"

# pg_dump and the checksums run side by side, in that snapshot.
dump_started=$EPOCHREALTIME
pg_dump --dbname="$DATABASE_URL" --format=custom --compress=6 --snapshot="$snapshot" --file="$DUMP.partial" &
dump_pid=$!
sums_started=$EPOCHREALTIME
if ! "${PSQL[@]}" -v snapshot="$snapshot" -v checksums="$CHECKSUMS_SQL" > "$SUMS" << 'SQL'; then
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
SET TRANSACTION SNAPSHOT :'snapshot';
\i :checksums
COMMIT;
SQL
  kill "$dump_pid" 2> /dev/null || true
  wait "$dump_pid" 2> /dev/null || true
  die "the checksums could not be computed"
fi
sums_seconds=$(seconds_since "$sums_started")
wait "$dump_pid" || die "pg_dump failed"
dump_seconds=$(seconds_since "$dump_started")

# Both are taken: release the snapshot.
printf '%s\n' "COMMIT;" '\q' >&"${SNAP[1]}"
wait "$snap_pid" || true
snap_pid=""

jq -e '.tables | length > 0' "$SUMS" > /dev/null || die "the checksums found no table: is DATABASE_URL the Sluice database?"
dump_bytes=$(stat -c %s "$DUMP.partial")
dump_sha=$(sha256sum "$DUMP.partial" | cut -d' ' -f1)
mv "$DUMP.partial" "$DUMP"
total_seconds=$(seconds_since "$started")

jq --arg name "$NAME" --arg file "$(basename "$DUMP")" --arg sha "$dump_sha" --arg snapshot "$snapshot" \
  --arg createdAt "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg pgDump "$(pg_dump --version)" \
  --argjson bytes "$dump_bytes" --argjson dumpS "$dump_seconds" --argjson sumsS "$sums_seconds" --argjson totalS "$total_seconds" \
  '{
    format: "sluice-backup/1",
    name: $name,
    createdAt: $createdAt,
    snapshot: $snapshot,
    database: .database,
    server: .server,
    pgDump: $pgDump,
    migrationHead: .migrationHead,
    dump: { file: $file, format: "custom", bytes: $bytes, sha256: $sha },
    totals: { tables: (.tables | length), partitions: (.partitions | length), rows: ([.tables[].rows] | add) },
    durations: { dumpSeconds: $dumpS, checksumSeconds: $sumsS, totalSeconds: $totalS },
    tables: .tables,
    partitions: .partitions
  }' "$SUMS" > "$MANIFEST.partial"
mv "$MANIFEST.partial" "$MANIFEST"
rm -f "$SUMS"
log "$(jq -r '"wrote \(.dump.file) (\(.dump.bytes) bytes): \(.totals.tables) tables, \(.totals.partitions) partitions, \(.totals.rows) rows, migration \(.migrationHead), in \(.durations.totalSeconds) s"' "$MANIFEST")"

if [ -n "$S3_URI" ]; then
  # The manifest goes last: a listing of manifests is a listing of complete backups.
  aws s3 cp --only-show-errors "$DUMP" "$S3_URI/$(basename "$DUMP")" || die "upload of the dump to $S3_URI failed"
  aws s3 cp --only-show-errors --content-type application/json "$MANIFEST" "$S3_URI/$(basename "$MANIFEST")" || die "upload of the manifest to $S3_URI failed"
  log "uploaded to $S3_URI/$NAME.{dump,manifest.json}"
fi

# Retention: the newest N complete backups (a manifest and its dump); names sort by time.
if [ "$KEEP_LOCAL" -gt 0 ]; then
  mapfile -t old < <(find "$OUT_DIR" -maxdepth 1 -name 'sluice-*.manifest.json' -printf '%f\n' | sort -r | tail -n +"$((KEEP_LOCAL + 1))")
  for m in "${old[@]}"; do
    rm -f "$OUT_DIR/${m%.manifest.json}.dump" "$OUT_DIR/$m"
    log "removed local backup ${m%.manifest.json} (keeping $KEEP_LOCAL)"
  done
fi
if [ -n "$S3_URI" ] && [ "$KEEP_S3" -gt 0 ]; then
  listing=$(aws s3 ls "$S3_URI/") || die "listing $S3_URI/ for retention failed"
  mapfile -t old < <(awk '{ print $NF }' <<< "$listing" | grep -E '^sluice-.*\.manifest\.json$' | sort -r | tail -n +"$((KEEP_S3 + 1))")
  for m in "${old[@]}"; do
    aws s3 rm --only-show-errors "$S3_URI/$m" || die "removing $S3_URI/$m failed"
    aws s3 rm --only-show-errors "$S3_URI/${m%.manifest.json}.dump" || die "removing $S3_URI/${m%.manifest.json}.dump failed"
    log "removed $S3_URI/${m%.manifest.json} (keeping $KEEP_S3)"
  done
fi

# The one line on stdout: the manifest's path, for scripts and the drill test.
echo "$MANIFEST"
