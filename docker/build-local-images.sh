#!/usr/bin/env bash
# Builds, without pulling anything from a registry, the images the containers environment
# runs (and the server image), from what is on this machine:
#   imstorm-local/node:22            Node 22 (node_modules/node/bin/node + its ldd libraries), FROM scratch
#   imstorm-local/redis:7            Debian's redis-server + redis-cli + their libraries + an entrypoint
#                                    that turns protected mode off, FROM scratch
#   imstorm-local/toxiproxy:2.12.0   the embedded Toxiproxy-compatible proxy on 8474 / 8666-8697
#   imstorm-local/server:dev         one imstorm server node (skip with --no-server)
#   imstorm-local/harness:dev        the imstorm CLI (agents and orchestrator) + redis-server,
#                                    for docker/compose.fleet.yaml and deploy/k8s (skip with --no-harness)
# Then: export IMSTORM_REDIS_IMAGE=imstorm-local/redis:7 IMSTORM_TOXIPROXY_IMAGE=imstorm-local/toxiproxy:2.12.0
# (the containers environment also falls back to these tags by itself when the public
# images are neither present nor pullable).
#
# Needs: a running Docker engine, redis-server and redis-cli (apt-get install -y redis-server),
# ldd, and `npm ci` done (for node_modules/node and node_modules/zod).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PREFIX="${IMSTORM_IMAGE_PREFIX:-imstorm-local}"
NODE_TAG="$PREFIX/node:22"
REDIS_TAG="$PREFIX/redis:7"
TOXIPROXY_TAG="$PREFIX/toxiproxy:2.12.0"
SERVER_TAG="$PREFIX/server:dev"
HARNESS_TAG="$PREFIX/harness:dev"
BUILD_SERVER=1
BUILD_HARNESS=1
for arg in "$@"; do
  case "$arg" in
    --no-server) BUILD_SERVER=0 ;;
    --no-harness) BUILD_HARNESS=0 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "build-local-images.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done

need() { command -v "$1" >/dev/null 2>&1 || { echo "build-local-images.sh: $1 not found; $2" >&2; exit 1; }; }
need docker "install Docker (apt-get install -y docker.io) and start dockerd"
need ldd "install libc-bin"
docker info >/dev/null 2>&1 || { echo "build-local-images.sh: no Docker engine answers (start dockerd)" >&2; exit 1; }

NODE_BIN="$ROOT/node_modules/node/bin/node"
[ -x "$NODE_BIN" ] || { echo "build-local-images.sh: $NODE_BIN missing; run npm ci first" >&2; exit 1; }
[ -d "$ROOT/node_modules/zod" ] || { echo "build-local-images.sh: node_modules/zod missing; run npm ci first" >&2; exit 1; }
REDIS_SERVER="$(command -v redis-server || true)"
REDIS_CLI="$(command -v redis-cli || true)"
[ -n "$REDIS_SERVER" ] && [ -n "$REDIS_CLI" ] || { echo "build-local-images.sh: redis-server/redis-cli not found; apt-get install -y redis-server" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/imstorm-images-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# add_binary ROOTFS SRC DEST: the binary's content (symlinks resolved) at DEST, and every
# library `ldd` lists at the path the loader will look for it.
add_binary() {
  local rootfs="$1" src="$2" dest="$3" lib
  install -D -m 0755 "$(readlink -f "$src")" "$rootfs$dest"
  while read -r lib; do
    [ -n "$lib" ] && [ -e "$lib" ] || continue
    [ -e "$rootfs$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$rootfs$lib"
  done < <(ldd "$src" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
}

build() { # TAG DOCKERFILE CONTEXT [build-arg...]
  local tag="$1" file="$2" ctx="$3"
  shift 3
  echo "== docker build $tag"
  DOCKER_BUILDKIT=0 docker build --quiet --pull=false -t "$tag" -f "$file" "$@" "$ctx" >/dev/null
  echo "   $(docker image inspect --format '{{.Id}} {{.Size}} bytes' "$tag")"
}

# Node 22 runtime ----------------------------------------------------------------------
ctx="$WORK/node"
add_binary "$ctx/rootfs" "$NODE_BIN" /usr/local/bin/node
add_binary "$ctx/rootfs" /bin/dash /bin/sh
mkdir -p "$ctx/rootfs/tmp" && chmod 1777 "$ctx/rootfs/tmp"
build "$NODE_TAG" "$ROOT/docker/node-base.Dockerfile" "$ctx"

# Redis ---------------------------------------------------------------------------------
ctx="$WORK/redis"
add_binary "$ctx/rootfs" "$REDIS_SERVER" /usr/bin/redis-server
add_binary "$ctx/rootfs" "$REDIS_CLI" /usr/bin/redis-cli
add_binary "$ctx/rootfs" /bin/dash /bin/sh
install -D -m 0755 "$ROOT/docker/redis-entrypoint.sh" "$ctx/rootfs/usr/local/bin/docker-entrypoint.sh"
mkdir -p "$ctx/rootfs/data" "$ctx/rootfs/tmp" && chmod 1777 "$ctx/rootfs/tmp"
build "$REDIS_TAG" "$ROOT/docker/redis.Dockerfile" "$ctx"

# Toxiproxy (embedded proxy) --------------------------------------------------------------
ctx="$WORK/toxiproxy"
mkdir -p "$ctx/app/harness" "$ctx/app/node_modules"
cp -R "$ROOT/harness/faults" "$ctx/app/harness/faults"
cp -R "$ROOT/node_modules/zod" "$ctx/app/node_modules/zod"
printf '{ "name": "imstorm-toxiproxy", "private": true, "type": "module" }\n' > "$ctx/app/package.json"
build "$TOXIPROXY_TAG" "$ROOT/docker/toxiproxy.Dockerfile" "$ctx" --build-arg "NODE_IMAGE=$NODE_TAG"

# Server --------------------------------------------------------------------------------
if [ "$BUILD_SERVER" = 1 ]; then
  "$ROOT/docker/build-server-image.sh" --tag "$SERVER_TAG" --node-image "$NODE_TAG"
fi

# Harness (agents and orchestrator) -------------------------------------------------------
if [ "$BUILD_HARNESS" = 1 ]; then
  ctx="$WORK/harness"
  app="$ctx/rootfs/imstorm"
  add_binary "$ctx/rootfs" "$REDIS_SERVER" /usr/bin/redis-server
  add_binary "$ctx/rootfs" "$REDIS_CLI" /usr/bin/redis-cli
  mkdir -p "$app/node_modules" "$app/reports"
  cp "$ROOT/package.json" "$app/"
  for d in bin harness server scenarios examples; do cp -R "$ROOT/$d" "$app/$d"; done
  # node_modules without the dev tools that are large and never loaded by the CLI (the Node
  # binary is the image's /usr/local/bin/node), nor the caches test runs write there while
  # we read (tar would fail on "file changed as we read it"); "$ROOT/node_modules/" with the
  # slash, as it may be a symlink (a git worktree's)
  tar -C "$ROOT/node_modules/" -cf - --exclude='./.vite*' --exclude=./.cache \
    --exclude=./node --exclude=./typescript --exclude=./playwright-core \
    --exclude=./kubernetes-models --exclude=./@kubernetes-models --exclude=./@rolldown \
    --exclude='./lightningcss*' --exclude=./@types . | tar -C "$app/node_modules" -xf -
  echo "   harness: $(du -sh "$app/node_modules" | cut -f1) of node_modules"
  build "$HARNESS_TAG" "$ROOT/docker/harness.Dockerfile" "$ctx" --build-arg "NODE_IMAGE=$NODE_TAG"
fi

echo "== images ready"
echo "export IMSTORM_REDIS_IMAGE=$REDIS_TAG IMSTORM_TOXIPROXY_IMAGE=$TOXIPROXY_TAG"
