#!/usr/bin/env bash
# Restores a backup of scripts/backup.sh into the database of DATABASE_URL and proves it: the
# dump's sha256 against the manifest, pg_restore in parallel, then the checksums of
# scripts/lib/checksums.sql recomputed on the restored database and compared with the manifest.
#
#   DATABASE_URL=postgres://... bash scripts/restore.sh [--force] [--jobs N] [--no-analyze] BACKUP
#
# BACKUP is a local .dump or .manifest.json (the other file lies beside it), an
# s3://bucket/prefix/sluice-<timestamp>.dump (or .manifest.json) URI, or `s3-latest` for the
# newest manifest under BACKUP_S3_URI; S3 files are downloaded with `aws s3 cp` to a temporary
# directory (RESTORE_DOWNLOAD_DIR, default $TMPDIR) and removed afterwards.
# The target database must exist. It must be empty (no table, view, sequence or index outside
# the system schemas) unless --force, which drops and recreates every object of the dump.
# Exit: 0 restored and verified; 1 failed; 3 restored but a checksum differs from the manifest.
# Runbook: docs/runbooks/backup-restore.md.
set -euo pipefail

TOOL=restore
USAGE_LINES=2,15
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

FORCE=0
ANALYZE=1
JOBS="${RESTORE_JOBS:-4}"
BACKUP=""
while [ $# -gt 0 ]; do
  case "$1" in
    --force) FORCE=1; shift ;;
    --jobs | -j) JOBS="${2:?--jobs needs a number}"; shift 2 ;;
    --no-analyze) ANALYZE=0; shift ;;
    -h | --help) usage ;;
    -*) echo "restore: unknown option '$1'" >&2; usage ;;
    *) [ -z "$BACKUP" ] || usage; BACKUP="$1"; shift ;;
  esac
done
[ -n "$BACKUP" ] || usage
[ -n "${DATABASE_URL:-}" ] || die "DATABASE_URL (the target) is not set"
[[ "$JOBS" =~ ^[1-9][0-9]*$ ]] || die "--jobs must be a positive whole number, got '$JOBS'"
require_tools pg_restore psql jq sha256sum

PSQL=(psql "$DATABASE_URL" -X -q -At -v ON_ERROR_STOP=1)
DOWNLOAD=""
cleanup() {
  local rc=$?
  [ -z "$DOWNLOAD" ] || rm -rf "$DOWNLOAD"
  [ $rc -eq 0 ] || echo "restore: exit $rc" >&2
}
trap cleanup EXIT

# Where the backup is: local files, or downloaded from S3.
if [ "$BACKUP" = s3-latest ] || [[ "$BACKUP" =~ ^s3:// ]]; then
  command -v aws > /dev/null || die "aws (awscli) is not on PATH"
  if [ "$BACKUP" = s3-latest ]; then
    [ -n "${BACKUP_S3_URI:-}" ] || die "s3-latest needs BACKUP_S3_URI"
    prefix="${BACKUP_S3_URI%/}"
    latest=$(aws s3 ls "$prefix/" | awk '{ print $NF }' | grep -E '^sluice-.*\.manifest\.json$' | sort | tail -n 1) || true
    [ -n "$latest" ] || die "no sluice-*.manifest.json under $prefix/"
    BACKUP="$prefix/$latest"
  fi
  base="${BACKUP%.dump}"
  base="${base%.manifest.json}"
  DOWNLOAD=$(mktemp -d "${RESTORE_DOWNLOAD_DIR:-${TMPDIR:-/tmp}}/sluice-restore.XXXXXX")
  started=$EPOCHREALTIME
  aws s3 cp --only-show-errors "$base.manifest.json" "$DOWNLOAD/" || die "download of $base.manifest.json failed"
  aws s3 cp --only-show-errors "$base.dump" "$DOWNLOAD/" || die "download of $base.dump failed"
  log "downloaded $base.{dump,manifest.json} in $(seconds_since "$started") s"
  base="$DOWNLOAD/$(basename "$base")"
else
  base="${BACKUP%.dump}"
  base="${base%.manifest.json}"
fi
DUMP="$base.dump"
MANIFEST="$base.manifest.json"
[ -f "$MANIFEST" ] || die "$MANIFEST is missing: a dump without its manifest is not a complete backup"
[ -f "$DUMP" ] || die "$DUMP is missing"
jq -e '.format == "sluice-backup/1"' "$MANIFEST" > /dev/null || die "$MANIFEST is not a sluice-backup/1 manifest"

# The file is the one the manifest describes.
started=$EPOCHREALTIME
sha=$(sha256sum "$DUMP" | cut -d' ' -f1)
[ "$sha" = "$(jq -r .dump.sha256 "$MANIFEST")" ] || die "$DUMP has sha256 $sha, the manifest says $(jq -r .dump.sha256 "$MANIFEST"): the file is damaged or not this backup's"
log "sha256 of $(basename "$DUMP") matches the manifest ($(seconds_since "$started") s)"

# An empty target, unless --force.
objects=$("${PSQL[@]}" -c "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'") || die "cannot connect to the target database"
clean=()
if [ "$objects" -gt 0 ]; then
  [ "$FORCE" -eq 1 ] || die "the target database is not empty ($objects relations outside the system schemas); restore into a new, empty database, or pass --force to drop and recreate every object of the dump"
  log "target holds $objects relations: --force, dropping and recreating the dump's objects"
  clean=(--clean --if-exists)
fi

# The restore. Owners and grants are the target's (the restoring user owns what it creates).
started=$EPOCHREALTIME
pg_restore --dbname="$DATABASE_URL" --jobs="$JOBS" --exit-on-error --no-owner --no-acl "${clean[@]}" "$DUMP" || die "pg_restore failed"
restore_seconds=$(seconds_since "$started")
log "pg_restore -j $JOBS done in $restore_seconds s"
analyze_seconds=0
if [ "$ANALYZE" -eq 1 ]; then
  started=$EPOCHREALTIME
  "${PSQL[@]}" -c "ANALYZE" || die "ANALYZE failed"
  analyze_seconds=$(seconds_since "$started")
fi

# The proof: the same checksums, compared with the manifest.
started=$EPOCHREALTIME
restored=$("${PSQL[@]}" -v checksums="$CHECKSUMS_SQL" << 'SQL'
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
\i :checksums
COMMIT;
SQL
) || die "the checksums of the restored database could not be computed"
verify_seconds=$(seconds_since "$started")

report=$(jq -r -n --slurpfile m "$MANIFEST" --argjson r "$restored" '
  def byname(list): reduce list[] as $t ({}; .[$t.name] = $t);
  def diff(kind; a; b):
    (byname(a)) as $A | (byname(b)) as $B
    | ([$A, $B] | map(keys) | add | unique)[] as $n
    | if $A[$n] == null then "MISMATCH \(kind) \($n): not in the backup, \($B[$n].rows) rows restored"
      elif $B[$n] == null then "MISMATCH \(kind) \($n): \($A[$n].rows) rows in the backup, missing after restore"
      elif $A[$n].rows != $B[$n].rows or $A[$n].checksum != $B[$n].checksum then
        "MISMATCH \(kind) \($n): backup \($A[$n].rows) rows checksum \($A[$n].checksum), restored \($B[$n].rows) rows checksum \($B[$n].checksum)"
      else empty end;
  $m[0] as $m
  | [ diff("table"; $m.tables; $r.tables), diff("partition"; $m.partitions; $r.partitions),
      (if $m.migrationHead != $r.migrationHead then "MISMATCH migration head: backup \($m.migrationHead), restored \($r.migrationHead)" else empty end) ] as $bad
  | ($bad[]),
    "verified \($r.tables | length) tables, \($r.partitions | length) partitions, \([$r.tables[].rows] | add) rows against \($m.name) (\($m.totals.rows) rows, migration \($m.migrationHead)): \($bad | length) mismatches"
')
echo "$report"
echo "restore: figures: restore_seconds=$restore_seconds analyze_seconds=$analyze_seconds verify_seconds=$verify_seconds jobs=$JOBS dump_bytes=$(jq .dump.bytes "$MANIFEST")"
if grep -q '^MISMATCH' <<< "$report"; then
  echo "restore: the restored database differs from the backup: do not switch traffic to it" >&2
  exit 3
fi
