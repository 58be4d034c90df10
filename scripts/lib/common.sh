# Shared by scripts/backup.sh and scripts/restore.sh (sourced; set TOOL and USAGE_LINES first).
# shellcheck shell=bash

LIB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The checksum query both scripts run: the backup in its snapshot, the restore on its result.
CHECKSUMS_SQL="$LIB/checksums.sql"

# Prints the script's header comment (its lines USAGE_LINES) and exits 2.
usage() {
  sed -n "${USAGE_LINES}p" "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
die() {
  echo "$TOOL: FAILED: $*" >&2
  exit 1
}
log() { echo "$TOOL: $*" >&2; }
# Seconds since an $EPOCHREALTIME, with milliseconds.
seconds_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'; }
require_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" > /dev/null || die "$tool is not on PATH"
  done
}
