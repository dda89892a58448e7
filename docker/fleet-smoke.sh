#!/usr/bin/env bash
# A scenario on agent containers: `imstorm run SCENARIO --agents N --control-listen
# 127.0.0.1:PORT` on this machine and N agents under compose (docker/compose.fleet.yaml,
# --scale agent=N, the harness image docker/build-local-images.sh builds), within a deadline.
#   docker/fleet-smoke.sh [--scenario smoke] [--agents 2] [--port 7400] [--env local]
#                         [--deadline 270] [--agents-wait 90] [--out reports/fleet-smoke] [--seed N]
# Exit 0: the run passed, all N agents joined and every agent container exited 0.
# 1: the verdict failed, or an agent container did not exit 0. 2: setup (no Docker engine,
# no image, no compose, bad flag) or the agents never joined. 124: the deadline passed (the
# run and the containers are stopped). Compose: `docker compose` (v2) when the plugin is
# installed, else Debian's `docker-compose` (1.29); IMSTORM_COMPOSE="docker-compose" forces one.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

SCENARIO=smoke AGENTS=2 PORT=7400 ENV=local DEADLINE=270 AGENTS_WAIT=90 OUT=reports/fleet-smoke SEED=()
while [ $# -gt 0 ]; do
  case "$1" in
    --scenario) SCENARIO="$2"; shift 2 ;;
    --agents) AGENTS="$2"; shift 2 ;;
    --port) PORT="$2"; shift 2 ;;
    --env) ENV="$2"; shift 2 ;;
    --deadline) DEADLINE="$2"; shift 2 ;;
    --agents-wait) AGENTS_WAIT="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --seed) SEED=(--seed "$2"); shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "fleet-smoke.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
for v in AGENTS:"$AGENTS" PORT:"$PORT" DEADLINE:"$DEADLINE" AGENTS_WAIT:"$AGENTS_WAIT"; do
  [[ "${v#*:}" =~ ^[0-9]+$ ]] || { echo "fleet-smoke.sh: --$(echo "${v%%:*}" | tr 'A-Z_' 'a-z-') takes a whole number, got '${v#*:}'" >&2; exit 2; }
done
[ "$AGENTS" -ge 1 ] || { echo "fleet-smoke.sh: --agents must be at least 1" >&2; exit 2; }
[ "$AGENTS_WAIT" -lt "$DEADLINE" ] || { echo "fleet-smoke.sh: --agents-wait ($AGENTS_WAIT s) must be shorter than --deadline ($DEADLINE s)" >&2; exit 2; }

fail_setup() { echo "fleet-smoke.sh: $1" >&2; exit 2; }
docker info >/dev/null 2>&1 || fail_setup "no Docker engine answers (start dockerd)"
IMAGE="${IMSTORM_HARNESS_IMAGE:-imstorm-local/harness:dev}"
docker image inspect "$IMAGE" >/dev/null 2>&1 || fail_setup "image $IMAGE missing: run docker/build-local-images.sh"
if [ -n "${IMSTORM_COMPOSE:-}" ]; then
  read -r -a COMPOSE <<<"$IMSTORM_COMPOSE"
elif docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  COMPOSE=(docker-compose)
else
  fail_setup "neither \`docker compose\` (v2 plugin) nor docker-compose is installed: apt-get install -y docker-compose (Debian), or Docker's docker-compose-plugin"
fi
echo "== fleet smoke: $SCENARIO on $AGENTS agent container(s) ($IMAGE, $("${COMPOSE[@]}" version --short 2>/dev/null || echo "${COMPOSE[*]}")), control 127.0.0.1:$PORT, deadline ${DEADLINE} s"

IMSTORM_CONTROL_TOKEN="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export IMSTORM_CONTROL_TOKEN IMSTORM_HARNESS_IMAGE="$IMAGE" IMSTORM_CONTROL_URL="ws://127.0.0.1:$PORT/control"
PROJECT="imstorm-fleet-smoke-$$"
compose() { "${COMPOSE[@]}" -p "$PROJECT" -f "$ROOT/docker/compose.fleet.yaml" "$@"; }
LOGS="$(mktemp -d "${TMPDIR:-/tmp}/imstorm-fleet-smoke-XXXXXX")"
RUN_PID="" UP_PID=""

# stop the run's process group (the run and the redis, server and proxy processes it
# started), then the containers; called on every exit
cleanup() {
  if [ -n "$RUN_PID" ] && kill -0 "$RUN_PID" 2>/dev/null; then
    kill -TERM -- "-$RUN_PID" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$RUN_PID" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-$RUN_PID" 2>/dev/null || true
  fi
  compose down --timeout 5 >/dev/null 2>&1 || true
  [ -z "$UP_PID" ] || wait "$UP_PID" 2>/dev/null || true
  rm -rf "$LOGS"
}
trap cleanup EXIT
trap 'exit 143' TERM INT # so that cleanup runs when an outer timeout stops this script

START=$(date +%s)
# the run in a process group of its own (setsid), its output shown and kept for the checks
setsid npx imstorm run "$SCENARIO" --env "$ENV" --agents "$AGENTS" --control-listen "127.0.0.1:$PORT" --agents-wait "$AGENTS_WAIT" --out "$OUT" "${SEED[@]}" \
  > >(tee "$LOGS/run.log") 2>&1 &
RUN_PID=$!
# the agents at once: they retry the endpoint until it listens
compose up --no-color --scale "agent=$AGENTS" > >(sed -u 's/^/[compose] /') 2>&1 &
UP_PID=$!

rc=""
while [ -z "$rc" ]; do
  if ! kill -0 "$RUN_PID" 2>/dev/null; then
    set +e; wait "$RUN_PID"; rc=$?; set -e
    break
  fi
  if [ $(( $(date +%s) - START )) -ge "$DEADLINE" ]; then
    echo "fleet-smoke.sh: DEADLINE: the run did not finish within $DEADLINE s; stopping it and the agents" >&2
    grep -E '^agents: ' "$LOGS/run.log" | tail -n 1 >&2 || true
    exit 124
  fi
  sleep 1
done
RUN_S=$(( $(date +%s) - START ))

# the agents exit 0 on the run's bye; give them a moment
for _ in $(seq 1 30); do kill -0 "$UP_PID" 2>/dev/null || break; sleep 1; done
mapfile -t ids < <(compose ps -q agent 2>/dev/null)
agent_fail=0
for id in "${ids[@]}"; do
  state="$(docker inspect --format '{{.Name}} {{.State.Status}} exit {{.State.ExitCode}}' "$id")"
  echo "agent container ${state#/}"
  [[ "$state" == *" exited exit 0" ]] || agent_fail=1
done
[ "${#ids[@]}" -eq "$AGENTS" ] || { echo "fleet-smoke.sh: $AGENTS agent container(s) asked for, ${#ids[@]} found" >&2; agent_fail=1; }

joined=0
grep -qE "^agents: $AGENTS of $AGENTS connected" "$LOGS/run.log" && joined=1
verdict="$(grep -E '^[^ ].*: (PASS|FAIL) — ' "$LOGS/run.log" | tail -n 1 || true)"
echo "== fleet smoke: run exit $rc after ${RUN_S} s; agents joined: $([ $joined = 1 ] && echo "$AGENTS of $AGENTS" || echo NO); verdict: ${verdict:-none}"
if [ "$joined" != 1 ]; then
  echo "fleet-smoke.sh: the $AGENTS agent container(s) never all joined the run (see [compose] lines above)" >&2
  exit 2
fi
[ "$rc" = 0 ] || exit "$rc"
[ "$agent_fail" = 0 ] || { echo "fleet-smoke.sh: the run passed but an agent container did not exit 0" >&2; exit 1; }
echo "== fleet smoke: PASS"
