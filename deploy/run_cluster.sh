#!/usr/bin/env bash
# Several Rasa servers behind a load balancer on this machine (`make run-cluster`):
# the action server, RASA_SERVERS Rasa servers (default 2) sharing the
# conversation store (PostgreSQL) and the lock store (Redis) of
# deploy/endpoints.scale.yml, nginx in front of them on RASA_PORT (socket.io
# sticky per client address, REST and webhooks in turn; deploy/load_balancer.py)
# and the website page. Ctrl-C / SIGTERM stops all of them.
# Ports: RASA_PORT (5005, the load balancer), RASA_BACKEND_PORT (default
# RASA_PORT + 1: the Rasa servers listen on 127.0.0.1 from there up), ACTION_PORT
# (5055), WEB_PORT (8080). Settings come from the environment or .env, as for
# deploy/run.sh; TRACKER_PG_* and LOCK_REDIS_* are required (.env.example).
set -euo pipefail
cd "$(dirname "$0")/.."

. deploy/servers.sh  # .env, ports, the shared secret, logs; stop and wait_for
RASA_SERVERS="${RASA_SERVERS:-2}"
RASA_BACKEND_PORT="${RASA_BACKEND_PORT:-$((RASA_PORT + 1))}"
# Every Rasa server must see the same conversations and locks: always the scale-out
# endpoints, whatever ENDPOINTS says for `make run`.
ENDPOINTS=deploy/endpoints.scale.yml
export TRACKER_PG_PORT="${TRACKER_PG_PORT:-5432}" TRACKER_PG_PASSWORD="${TRACKER_PG_PASSWORD:-}"
export LOCK_REDIS_PORT="${LOCK_REDIS_PORT:-6379}" LOCK_REDIS_DB="${LOCK_REDIS_DB:-1}"
export LOCK_REDIS_PREFIX="${LOCK_REDIS_PREFIX:-}"
NGINX="${NGINX:-/usr/sbin/nginx}"
STATE_DIR=var/cluster

missing=()
for key in TRACKER_PG_HOST TRACKER_PG_DB TRACKER_PG_USER LOCK_REDIS_HOST; do
  [ -n "${!key:-}" ] || missing+=("$key")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Set ${missing[*]} (in .env or the environment): the Rasa servers share PostgreSQL and Redis; see .env.example." >&2
  exit 1
fi
check_servers_and_nginx
model_for "make run-cluster"

echo "Starting the action server on port ${ACTION_PORT} (log: ${LOG_DIR}/action-server.log) ..."
.venv/bin/python -m actions.server --port "${ACTION_PORT}" </dev/null >"${LOG_DIR}/action-server.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:${ACTION_PORT}/health" action-server "${pids[0]}" 60

start_rasa() {  # start_rasa NUMBER
  local port=$((RASA_BACKEND_PORT + $1 - 1))
  echo "Starting Rasa server $1 on 127.0.0.1:${port} (log: ${LOG_DIR}/rasa-server-$1.log) ..."
  .venv/bin/python -m rasa_server run --model "$model" --interface 127.0.0.1 --port "$port" \
    --endpoints "${ENDPOINTS}" --credentials credentials.yml --cors "${cors_origins[@]}" \
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
conf=$(.venv/bin/python -m deploy.load_balancer --listen "${RASA_PORT}" "${backends[@]/#/--server=}" \
  --dir "${STATE_DIR}" --access-log "${LOG_DIR}/nginx-access.log")
"$NGINX" -p "${STATE_DIR}" -c "$(realpath "$conf")" -e stderr </dev/null >"${LOG_DIR}/nginx.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:${RASA_PORT}/" nginx "$!" 15

echo "Starting the website page on port ${WEB_PORT} (log: ${LOG_DIR}/web-server.log) ..."
.venv/bin/python -m web.server --port "${WEB_PORT}" </dev/null >"${LOG_DIR}/web-server.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:${WEB_PORT}/health" web-server "$!" 30

cat <<MSG

The assistant is running on ${RASA_SERVERS} Rasa server(s) (${backends[*]}) behind nginx.
  Website:   open http://localhost:${WEB_PORT} in a browser and click "Questions? Chat with us"
  REST:      curl -XPOST localhost:${RASA_PORT}/webhooks/rest/webhook -H "Authorization: Bearer \$(cat var/rest-token)" -d '{"sender":"me","message":"what is klonopin"}'
  Socket.IO: http://localhost:${RASA_PORT}/socket.io (sticky: one browser, one server)
  Which server answered each request: ${LOG_DIR}/nginx-access.log (upstream=...)
Press Ctrl-C to stop.
MSG

wait_for_any_exit
