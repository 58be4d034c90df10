#!/usr/bin/env bash
# Wait until Argo CD has synced an application to the given image tag and it is healthy.
# Uses the Argo CD REST API (ARGOCD_SERVER host, ARGOCD_AUTH_TOKEN bearer token).
#   bash deploy/argocd/wait-sync.sh <application> <tag> [timeout-seconds]
set -euo pipefail

app="${1:?usage: wait-sync.sh <application> <tag> [timeout]}"
tag="${2:?usage: wait-sync.sh <application> <tag> [timeout]}"
timeout="${3:-900}"
: "${ARGOCD_SERVER:?ARGOCD_SERVER is not set}"
: "${ARGOCD_AUTH_TOKEN:?ARGOCD_AUTH_TOKEN is not set}"

api="https://${ARGOCD_SERVER}/api/v1/applications/${app}"
auth=(-H "Authorization: Bearer ${ARGOCD_AUTH_TOKEN}")

# Ask for a refresh so Argo CD sees the new commit without waiting for its poll interval.
curl -fsS "${auth[@]}" "${api}?refresh=normal" -o /dev/null

deadline=$((SECONDS + timeout))
while (( SECONDS < deadline )); do
  state="$(curl -fsS "${auth[@]}" "$api" | jq -r --arg tag "$tag" '
    [ .status.sync.status,
      .status.health.status,
      (.status.operationState.phase // "none"),
      ([.status.summary.images[]? | select(endswith(":" + $tag))] | length | tostring)
    ] | join(" ")')"
  read -r sync health phase images <<<"$state"
  echo "$(date -u +%H:%M:%S) $app sync=$sync health=$health operation=$phase images-with-tag=$images"
  if [[ "$phase" == "Failed" || "$phase" == "Error" ]]; then
    echo "sync failed (a failing migration hook stops the sync): see the Argo CD UI for $app" >&2
    exit 1
  fi
  if [[ "$sync" == "Synced" && "$health" == "Healthy" && "$images" != "0" ]]; then
    echo "$app runs $tag"
    exit 0
  fi
  sleep 10
done
echo "timed out after ${timeout}s waiting for $app to run $tag" >&2
exit 1
