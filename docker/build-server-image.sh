#!/usr/bin/env bash
# Builds the server image (docker/server.Dockerfile) from a staging context: package.json,
# server/, and the production dependencies copied from this checkout's node_modules
# (the packages `npm ls --omit=dev` lists: no download, no dev tools in the image).
#   docker/build-server-image.sh [--tag imstorm/server:dev] [--node-image node:22-bookworm-slim]
# --node-image is the base (any image with `node` >= 22.18 on PATH); build-local-images.sh
# passes its registry-free imstorm-local/node:22.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TAG="imstorm/server:dev"
NODE_IMAGE="node:22-bookworm-slim"
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) TAG="$2"; shift 2 ;;
    --node-image) NODE_IMAGE="$2"; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "build-server-image.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -d "$ROOT/node_modules" ] || { echo "build-server-image.sh: run npm ci first" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/imstorm-server-image-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
app="$WORK/app"
mkdir -p "$app/node_modules"
cp "$ROOT/package.json" "$ROOT/package-lock.json" "$app/"
cp -R "$ROOT/server" "$app/server"
# every production package, at the same place in the tree. npm prints the resolved path
# when node_modules is a symlink (a git worktree's), and exits 1 on problems it still lists
# the tree through (e.g. "extraneous" in such a worktree): say so, and go on
NM_REAL="$(cd "$ROOT/node_modules" && pwd -P)"
(cd "$ROOT" && npm ls --omit=dev --all --parseable 2>/dev/null || echo "build-server-image.sh: npm ls exited $? (listing kept)" >&2) | while read -r dir; do
  case "$dir" in
    "$ROOT"/node_modules/*) rel="${dir#"$ROOT"/}" ;;
    "$NM_REAL"/*) rel="node_modules/${dir#"$NM_REAL"/}" ;;
    *) continue ;;
  esac
  [ -e "$app/$rel" ] && continue
  mkdir -p "$app/$(dirname "$rel")"
  cp -R "$dir" "$app/$rel"
done
# (a package's nested node_modules come along with it: they hold only its own dependencies)
echo "== docker build $TAG (base $NODE_IMAGE, $(du -sh "$app/node_modules" | cut -f1) of production dependencies)"
DOCKER_BUILDKIT=0 docker build --quiet --pull=false -t "$TAG" -f "$ROOT/docker/server.Dockerfile" --build-arg "NODE_IMAGE=$NODE_IMAGE" "$WORK" >/dev/null
echo "   $(docker image inspect --format '{{.Id}} {{.Size}} bytes' "$TAG")"
