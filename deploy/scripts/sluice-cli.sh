#!/usr/bin/env bash
# Runs the operator CLI (`node dist/cli.js <verb>`) in a one-off pod of the Sluice image: for
# the first admin key, for recovery when every admin key is lost, and for key and source chores
# without the HTTP API. Runbook: docs/runbooks/key-rotation.md.
#
#   deploy/scripts/sluice-cli.sh [-n NAMESPACE] [-d API_DEPLOYMENT] [-t SECONDS] <verb> [options]
#   deploy/scripts/sluice-cli.sh keys:create --kind admin --name alice
#   deploy/scripts/sluice-cli.sh keys:list --kind admin
#   deploy/scripts/sluice-cli.sh -p keys:list              # only print the pod manifest
#   deploy/scripts/sluice-cli.sh -r node -e '...'          # another command in the same kind of pod
#
# The pod is built from the api Deployment: same image, ConfigMap, Secret, ServiceAccount,
# security context and release labels (so the chart's NetworkPolicies let it reach PostgreSQL
# and Redis), without ADMIN_TOKEN, DATABASE_READ_URL, ports or probes. It only runs `sleep`;
# the CLI runs through `kubectl exec`, so what it prints (a new key is shown once) reaches this
# terminal only, never the container log that Fluent Bit ships to OpenSearch. Not the api pods
# themselves: the CLI would share their memory limit. The pod is deleted on exit, and ends by itself after
# -t seconds (default 900) if this script is killed.
#
# Needs kubectl (pods: create, get, delete; pods/exec; deployments: get) and jq.
set -euo pipefail

NS=${SLUICE_NAMESPACE:-sluice}
DEPLOY=${SLUICE_DEPLOYMENT:-sluice-api}
TTL=900
PRINT=0
RAW=0

usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

while getopts 'n:d:t:prh' opt; do
  case "$opt" in
    n) NS=$OPTARG ;;
    d) DEPLOY=$OPTARG ;;
    t) TTL=$OPTARG ;;
    p) PRINT=1 ;;
    r) RAW=1 ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || usage
if ! [[ $TTL =~ ^[0-9]+$ ]] || [ "$TTL" -lt 60 ]; then
  echo "-t must be a number of seconds, at least 60" >&2
  exit 2
fi
for tool in kubectl jq; do
  command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 2; }
done

if [ "$RAW" = 1 ]; then
  CMD=("$@")
else
  CMD=(node dist/cli.js "$@")
fi

POD="${DEPLOY%-api}-cli-$(date -u +%Y%m%d-%H%M%S)-$$"
DEPLOYMENT_JSON=$(kubectl -n "$NS" get deployment "$DEPLOY" -o json)

# The api pod template, reduced to what a CLI run needs. ROLE and PORT are dropped (the CLI
# sets its own role), ADMIN_TOKEN too (the CLI works on the database directly), and
# DATABASE_READ_URL (the query API's replica: the CLI reads and writes the primary, and
# rollups:rebuild must count what the primary holds).
MANIFEST=$(jq --arg name "$POD" --argjson ttl "$TTL" --arg by "${USER:-unknown}" '
  .spec.template as $t
  | $t.spec.containers[0] as $c
  | {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: $name,
        labels: (($t.metadata.labels // {})
          | with_entries(select(.key | IN("app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/part-of", "app.kubernetes.io/version")))
          + {"app.kubernetes.io/component": "cli"}),
        annotations: {"fluentbit.io/exclude": "true", "sluice/started-by": $by}
      },
      spec: (($t.spec
          | {serviceAccountName, automountServiceAccountToken, enableServiceLinks, securityContext, imagePullSecrets, nodeSelector, tolerations, volumes}
          | with_entries(select(.value != null)))
        + {
            restartPolicy: "Never",
            activeDeadlineSeconds: $ttl,
            terminationGracePeriodSeconds: 5,
            containers: [{
              name: "cli",
              image: $c.image,
              imagePullPolicy: $c.imagePullPolicy,
              args: ["sleep", ($ttl | tostring)],
              env: [($c.env // [])[] | select(.name | IN("ADMIN_TOKEN", "DATABASE_READ_URL", "ROLE", "PORT") | not)],
              envFrom: ($c.envFrom // []),
              resources: $c.resources,
              securityContext: $c.securityContext,
              volumeMounts: ($c.volumeMounts // [])
            }]
          })
    }' <<<"$DEPLOYMENT_JSON")

if [ "$PRINT" = 1 ]; then
  printf '%s\n' "$MANIFEST"
  exit 0
fi

cleanup() {
  kubectl -n "$NS" delete pod "$POD" --wait=false --ignore-not-found >/dev/null 2>&1 || true
}
trap cleanup EXIT

printf '%s\n' "$MANIFEST" | kubectl -n "$NS" create -f - >/dev/null
echo "pod $NS/$POD (from deployment/$DEPLOY) starting..." >&2
if ! kubectl -n "$NS" wait --for=condition=Ready "pod/$POD" --timeout=180s >/dev/null; then
  kubectl -n "$NS" describe pod "$POD" | tail -n 20 >&2
  exit 1
fi
echo "running: ${CMD[*]}" >&2
# Output goes to stdout only (JSON for the CLI verbs: pipe it to jq).
kubectl -n "$NS" exec "$POD" -c cli -- "${CMD[@]}"
