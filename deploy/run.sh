#!/usr/bin/env bash
# Start the action server, the Rasa servers (REST, socket.io and the messaging
# channels) behind nginx and the website page with the chat widget; print where to talk to the
# assistant, and stop all of them cleanly on Ctrl-C / SIGTERM.
# Works without a terminal (service managers, scripts). Ports: RASA_PORT (5005),
# ACTION_PORT (5055), WEB_PORT (8080). Settings may come from a .env file (see
# .env.example).
set -euo pipefail
cd "$(dirname "$0")/.."

. deploy/servers.sh  # .env, ports, the shared secret, logs; stop and wait_for
export TRACKER_DB="${TRACKER_DB:-var/tracker.sqlite3}"
export LOCK_DB="${LOCK_DB:-var/locks.sqlite3}"
# RASA_SERVERS Rasa servers (2: one per core; each loads the model) behind nginx
# on RASA_PORT, which hands each request to the server with the fewest in
# progress (deploy/load_balancer.py): the work is spread per message, whatever
# connections the visitors keep open. The servers listen on 127.0.0.1 from
# RASA_BACKEND_PORT (RASA_PORT + 1) up, share the SQLite conversation and lock
# stores (the lock store keeps each conversation's messages in order) and the
# rate limits (RATE_LIMIT_STATE), and trust nginx's X-Forwarded-For for the
# visitor's address. Their threads: deploy/servers.sh.
RASA_SERVERS="${RASA_SERVERS:-2}"
RASA_BACKEND_PORT="${RASA_BACKEND_PORT:-$((RASA_PORT + 1))}"
NGINX="${NGINX:-/usr/sbin/nginx}"
# Per port, so that two stacks on one machine (the system tests) keep apart.
BALANCER_DIR="${BALANCER_DIR:-var/balancer-${RASA_PORT}}"
export RATE_LIMIT_STATE="${RATE_LIMIT_STATE:-var/rate-limits-${RASA_PORT}}"
export SANIC_WORKERS=1 SANIC_PROXIES_COUNT=1
# endpoints.yml (SQLite, one machine) or deploy/endpoints.scale.yml (PostgreSQL + Redis)
ENDPOINTS="${ENDPOINTS:-endpoints.yml}"
# Rasa's HTTP API (/conversations, /model, ...) stays off. ENABLE_API=true turns it
# on, and then only with RASA_API_TOKEN (16+ characters; clients send ?token=...):
# rasa_server/__main__.py refuses to start an open API.
api_args=()
if [ "${ENABLE_API:-false}" = "true" ]; then
  api_args=(--enable-api)
fi

check_servers_and_nginx
check_ports_free "$RASA_BACKEND_PORT" "$RASA_SERVERS" "the Rasa servers, from RASA_BACKEND_PORT"
model_for "make run"
# Each run counts afresh (the counts use the machine's monotonic clock).
rm -f "${RATE_LIMIT_STATE}".*

echo "Starting the action server on port ${ACTION_PORT} (log: ${LOG_DIR}/action-server.log) ..."
.venv/bin/python -m actions.server --port "${ACTION_PORT}" </dev/null >"${LOG_DIR}/action-server.log" 2>&1 &
pids+=($!)
action_pid=$!

declare -a rasa_pids backends=()
for ((n = 1; n <= RASA_SERVERS; n++)); do
  port=$((RASA_BACKEND_PORT + n - 1))
  echo "Starting Rasa server $n on 127.0.0.1:${port} with $model (log: ${LOG_DIR}/rasa-server-$n.log) ..."
  .venv/bin/python -m rasa_server run --model "$model" --interface 127.0.0.1 --port "$port" \
    --endpoints "${ENDPOINTS}" --credentials credentials.yml --cors "${cors_origins[@]}" \
    ${api_args[@]+"${api_args[@]}"} </dev/null >"${LOG_DIR}/rasa-server-$n.log" 2>&1 &
  pids+=($!)
  rasa_pids[n]=$!
  backends+=("127.0.0.1:${port}")
done
# nginx and the page start at once: nginx answers as soon as the first server
# has loaded the model (a server still loading is skipped), and says "not
# available" before.
echo "Starting the load balancer (nginx) on port ${RASA_PORT} (logs: ${LOG_DIR}/nginx.log, nginx-access.log) ..."
conf=$(.venv/bin/python -m deploy.load_balancer --listen "${RASA_PORT}" "${backends[@]/#/--server=}" \
  --workers 1 --dir "${BALANCER_DIR}" --access-log "${LOG_DIR}/nginx-access.log")
"$NGINX" -p "${BALANCER_DIR}" -c "$(realpath "$conf")" -e stderr </dev/null >"${LOG_DIR}/nginx.log" 2>&1 &
pids+=($!)
nginx_pid=$!
echo "Starting the website page on port ${WEB_PORT} (log: ${LOG_DIR}/web-server.log) ..."
.venv/bin/python -m web.server --port "${WEB_PORT}" </dev/null >"${LOG_DIR}/web-server.log" 2>&1 &
pids+=($!)
web_pid=$!
# Everything starts at once (the Rasa servers need the action server only for
# a message); then each is waited for.
wait_for "http://127.0.0.1:${ACTION_PORT}/health" action-server "$action_pid" 60
for ((n = 1; n <= RASA_SERVERS; n++)); do
  wait_for "http://${backends[n - 1]}/" "rasa-server-$n" "${rasa_pids[n]}" 180
done

wait_for "http://127.0.0.1:${RASA_PORT}/" nginx "$nginx_pid" 15
wait_for "http://127.0.0.1:${WEB_PORT}/health" web-server "$web_pid" 30

cat <<MSG

The assistant is running on ${RASA_SERVERS} Rasa server(s) behind nginx.
  Website:   open http://localhost:${WEB_PORT} in a browser and click "Questions? Chat with us"
  REST:      curl -XPOST localhost:${RASA_PORT}/webhooks/rest/webhook -H "Authorization: Bearer \$(cat var/rest-token)" -d '{"sender":"me","message":"what is klonopin"}'
  Socket.IO: http://localhost:${RASA_PORT}/socket.io (for the website chat widget)
  Which server answered each request: ${LOG_DIR}/nginx-access.log (upstream=...)
Press Ctrl-C to stop.
MSG

wait_for_any_exit
