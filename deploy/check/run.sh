#!/usr/bin/env bash
# Machine checks of the deployment assets. Offline: needs only Node 20+ and the packages of
# deploy/check/package-lock.json (`npm ci --prefix deploy/check`). Prints one line per check;
# exits non-zero if any check failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
CHECK=deploy/check

if [ ! -d "$CHECK/node_modules" ]; then
  echo "FAIL deploy/check/node_modules is missing: run 'npm ci --prefix deploy/check' first" >&2
  exit 1
fi

failed=()
for script in helm-check terraform-check workflows-check monitoring-check assets-check; do
  [ -f "$CHECK/$script.js" ] || continue
  echo "== $script"
  if ! node "$CHECK/$script.js"; then
    failed+=("$script")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "deploy checks FAILED: ${failed[*]}"
  exit 1
fi
echo "deploy checks passed"
