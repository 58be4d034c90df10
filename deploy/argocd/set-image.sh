#!/usr/bin/env bash
# Deploy an image tag to an environment the GitOps way: write it to
# deploy/argocd/<env>/values-image.yaml, commit and push. Argo CD syncs the change.
#   bash deploy/argocd/set-image.sh <dev|prod> <tag>
set -euo pipefail

env="${1:?usage: set-image.sh <env> <tag>}"
tag="${2:?usage: set-image.sh <env> <tag>}"
[[ "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || { echo "invalid image tag: $tag" >&2; exit 1; }
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
file="deploy/argocd/$env/values-image.yaml"
[ -f "$file" ] || { echo "unknown environment: $env ($file missing)" >&2; exit 1; }

cat > "$file" <<YAML
# The image deployed to $env. Written by .github/workflows/deploy.yml (job deploy-$env):
# every deploy is a commit that changes this file, and Argo CD syncs it.
image:
  tag: "$tag"
YAML

if git diff --quiet -- "$file"; then
  echo "$env already runs $tag"
  exit 0
fi
git config user.name "sluice-deploy[bot]"
git config user.email "sluice-deploy@users.noreply.github.com"
git add "$file"
git commit -m "deploy: $env -> $tag"
# Another deploy may have pushed meanwhile: rebase and retry.
for attempt in 1 2 3 4 5; do
  if git push origin HEAD:main; then
    echo "deployed $tag to $env"
    exit 0
  fi
  sleep $((attempt * 3))
  git pull --rebase origin main
done
echo "could not push the deploy commit" >&2
exit 1
