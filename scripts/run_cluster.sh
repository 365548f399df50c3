#!/usr/bin/env bash
# Several Rasa servers behind a load balancer on this machine (`make run-cluster`):
# the action server, RASA_SERVERS Rasa servers (default 2) sharing the
# conversation store (PostgreSQL) and the lock store (Redis) of
# config/endpoints.scale.yml, nginx in front of them on RASA_PORT (socket.io
# sticky per client address, REST and webhooks in turn; scripts/load_balancer.py)
# and the website page. Ctrl-C / SIGTERM stops all of them.
# Ports: RASA_PORT (5005, the load balancer), RASA_BACKEND_PORT (default
# RASA_PORT + 1: the Rasa servers listen on 127.0.0.1 from there up), ACTION_PORT
# (5055), WEB_PORT (8080). Settings come from the environment or .env, as for
# scripts/run.sh; TRACKER_PG_* and LOCK_REDIS_* are required (.env.example).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -f .env ]; then
  set -a; . ./.env; set +a
fi
export RASA_PORT="${RASA_PORT:-5005}"
RASA_SERVERS="${RASA_SERVERS:-2}"
RASA_BACKEND_PORT="${RASA_BACKEND_PORT:-$((RASA_PORT + 1))}"
export ACTION_PORT="${ACTION_PORT:-5055}"
export ACTION_SERVER_URL="${ACTION_SERVER_URL:-http://127.0.0.1:${ACTION_PORT}/webhook}"
# The shared secret between the Rasa servers and the action server.
export ACTION_SERVER_TOKEN="${ACTION_SERVER_TOKEN:-$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')}"
# Every Rasa server must see the same conversations and locks: always the scale-out
# endpoints, whatever ENDPOINTS says for `make run`.
ENDPOINTS=config/endpoints.scale.yml
export TRACKER_PG_PORT="${TRACKER_PG_PORT:-5432}" TRACKER_PG_PASSWORD="${TRACKER_PG_PASSWORD:-}"
export LOCK_REDIS_PORT="${LOCK_REDIS_PORT:-6379}" LOCK_REDIS_DB="${LOCK_REDIS_DB:-1}"
export LOCK_REDIS_PREFIX="${LOCK_REDIS_PREFIX:-}"
export WEB_PORT="${WEB_PORT:-8080}"
export CORS_ORIGINS="${CORS_ORIGINS:-http://localhost:${WEB_PORT},http://127.0.0.1:${WEB_PORT}}"
# credentials.yml reads every channel's keys from the environment; a channel whose
# keys are empty stays off (its webhook answers 503), so unset keys become empty.
for key in $(grep -oE '\$\{[A-Z0-9_]+\}' credentials.yml | tr -d '${}' | sort -u); do
  export "$key"="${!key:-}"
done
export RASA_TELEMETRY_ENABLED=false
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
LOG_DIR="${LOG_DIR:-results/logs}"
NGINX="${NGINX:-/usr/sbin/nginx}"
STATE_DIR=var/cluster
mkdir -p var "$LOG_DIR"

missing=()
for key in TRACKER_PG_HOST TRACKER_PG_DB TRACKER_PG_USER LOCK_REDIS_HOST; do
  [ -n "${!key:-}" ] || missing+=("$key")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Set ${missing[*]} (in .env or the environment): the Rasa servers share PostgreSQL and Redis; see .env.example." >&2
  exit 1
fi
if ! [[ "$RASA_SERVERS" =~ ^[1-9][0-9]*$ ]]; then
  echo "RASA_SERVERS must be a whole number of servers, at least 1, not '$RASA_SERVERS'." >&2
  exit 1
fi
if [ ! -x "$NGINX" ]; then
  echo "No nginx at $NGINX: run 'make nginx' (Debian's nginx-light), or set NGINX." >&2
  exit 1
fi
fp=$(.venv/bin/python scripts/model_fingerprint.py)
model="models/clonazepam-${fp}.tar.gz"
if [ ! -f "$model" ]; then
  echo "No model for the current data ($model). Run 'make train' (or 'make run-cluster', which trains)." >&2
  exit 1
fi

pids=()
stop() {
  trap - INT TERM EXIT
  if [ ${#pids[@]} -gt 0 ]; then
    echo "Stopping the cluster ..."
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

wait_for() {  # wait_for URL NAME PID SECONDS
  local i
  for ((i = 0; i < $4; i++)); do
    if ! kill -0 "$3" 2>/dev/null; then
      echo "The $2 stopped while starting; see ${LOG_DIR}/$2.log" >&2
      tail -n 20 "${LOG_DIR}/$2.log" >&2
      return 1
    fi
    if .venv/bin/python -c "import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" "$1" 2>/dev/null; then
      return 0
    fi
    sleep 1
  done
  echo "The $2 did not answer at $1 within $4 s; see ${LOG_DIR}/$2.log" >&2
  return 1
}

echo "Starting the action server on port ${ACTION_PORT} (log: ${LOG_DIR}/action-server.log) ..."
.venv/bin/python -m actions.server --port "${ACTION_PORT}" </dev/null >"${LOG_DIR}/action-server.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:${ACTION_PORT}/health" action-server "${pids[0]}" 60

start_rasa() {  # start_rasa NUMBER
  local port=$((RASA_BACKEND_PORT + $1 - 1))
  echo "Starting Rasa server $1 on 127.0.0.1:${port} (log: ${LOG_DIR}/rasa-server-$1.log) ..."
  .venv/bin/python -m scripts.rasa_server run --model "$model" --interface 127.0.0.1 --port "$port" \
    --endpoints "${ENDPOINTS}" --credentials credentials.yml --cors ${CORS_ORIGINS//,/ } \
    </dev/null >"${LOG_DIR}/rasa-server-$1.log" 2>&1 &
  pids+=($!)
  rasa_pids[$1]=$!
  backends+=("127.0.0.1:${port}")
}
declare -a rasa_pids backends=()
# The first server creates the tables in the database; the others
# start together once it is up, so no two create them at the same time.
start_rasa 1
wait_for "http://${backends[0]}/" rasa-server-1 "${rasa_pids[1]}" 180
for ((n = 2; n <= RASA_SERVERS; n++)); do
  start_rasa "$n"
done
for ((n = 2; n <= RASA_SERVERS; n++)); do
  wait_for "http://${backends[n - 1]}/" "rasa-server-$n" "${rasa_pids[n]}" 240
done

echo "Starting the load balancer (nginx) on port ${RASA_PORT} (logs: ${LOG_DIR}/nginx.log, nginx-access.log) ..."
conf=$(.venv/bin/python -m scripts.load_balancer --listen "${RASA_PORT}" "${backends[@]/#/--server=}" \
  --dir "${STATE_DIR}" --access-log "${LOG_DIR}/nginx-access.log")
"$NGINX" -p "${STATE_DIR}" -c "$(realpath "$conf")" -e stderr </dev/null >"${LOG_DIR}/nginx.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:${RASA_PORT}/" nginx "$!" 15

echo "Starting the website page on port ${WEB_PORT} (log: ${LOG_DIR}/web-server.log) ..."
.venv/bin/python web/server.py --port "${WEB_PORT}" </dev/null >"${LOG_DIR}/web-server.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:${WEB_PORT}/health" web-server "$!" 30

cat <<MSG

The assistant is running on ${RASA_SERVERS} Rasa server(s) (${backends[*]}) behind nginx.
  Website:   open http://localhost:${WEB_PORT} in a browser and click "Questions? Chat with us"
  REST:      curl -XPOST localhost:${RASA_PORT}/webhooks/rest/webhook -d '{"sender":"me","message":"what is klonopin"}'
  Socket.IO: http://localhost:${RASA_PORT}/socket.io (sticky: one browser, one server)
  Which server answered each request: ${LOG_DIR}/nginx-access.log (upstream=...)
Press Ctrl-C to stop.
MSG

# Return as soon as any process exits; the EXIT trap stops the others.
set +e
wait -n "${pids[@]}"
status=$?
echo "A server stopped (exit $status); see ${LOG_DIR}/." >&2
exit "$status"
