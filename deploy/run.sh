#!/usr/bin/env bash
# Start the action server, the Rasa server (REST, socket.io and the messaging
# channels) and the website page with the chat widget; print where to talk to the
# assistant, and stop all of them cleanly on Ctrl-C / SIGTERM.
# Works without a terminal (service managers, scripts). Ports: RASA_PORT (5005),
# ACTION_PORT (5055), WEB_PORT (8080). Settings may come from a .env file (see
# .env.example).
set -euo pipefail
cd "$(dirname "$0")/.."

. deploy/servers.sh  # .env, ports, the shared secret, logs; stop and wait_for
export TRACKER_DB="${TRACKER_DB:-var/tracker.sqlite3}"
export LOCK_DB="${LOCK_DB:-var/locks.sqlite3}"
# Two Rasa worker processes share the CPU cores (each loads the model); the lock
# store keeps each conversation's messages in order across them. Their threads:
# deploy/servers.sh.
export SANIC_WORKERS="${SANIC_WORKERS:-2}"
# endpoints.yml (SQLite, one server) or deploy/endpoints.scale.yml (PostgreSQL + Redis)
ENDPOINTS="${ENDPOINTS:-endpoints.yml}"
# Rasa's HTTP API (/conversations, /model, ...) stays off. ENABLE_API=true turns it
# on, and then only with RASA_API_TOKEN (16+ characters; clients send ?token=...):
# rasa_server/__main__.py refuses to start an open API.
api_args=()
if [ "${ENABLE_API:-false}" = "true" ]; then
  api_args=(--enable-api)
fi

model_for "make run"

echo "Starting the action server on port ${ACTION_PORT} (log: ${LOG_DIR}/action-server.log) ..."
.venv/bin/python -m actions.server --port "${ACTION_PORT}" </dev/null >"${LOG_DIR}/action-server.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:${ACTION_PORT}/health" action-server "${pids[0]}" 60

echo "Starting the Rasa server on port ${RASA_PORT} with $model (log: ${LOG_DIR}/rasa-server.log) ..."
.venv/bin/python -m rasa_server run --model "$model" --port "${RASA_PORT}" --endpoints "${ENDPOINTS}" \
  --credentials credentials.yml --cors "${cors_origins[@]}" ${api_args[@]+"${api_args[@]}"} \
  </dev/null >"${LOG_DIR}/rasa-server.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:${RASA_PORT}/" rasa-server "${pids[1]}" 180

echo "Starting the website page on port ${WEB_PORT} (log: ${LOG_DIR}/web-server.log) ..."
.venv/bin/python -m web.server --port "${WEB_PORT}" </dev/null >"${LOG_DIR}/web-server.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:${WEB_PORT}/health" web-server "${pids[2]}" 30

cat <<MSG

The assistant is running.
  Website:   open http://localhost:${WEB_PORT} in a browser and click "Questions? Chat with us"
  REST:      curl -XPOST localhost:${RASA_PORT}/webhooks/rest/webhook -H "Authorization: Bearer \$(cat var/rest-token)" -d '{"sender":"me","message":"what is klonopin"}'
  Socket.IO: http://localhost:${RASA_PORT}/socket.io (for the website chat widget)
Press Ctrl-C to stop.
MSG

wait_for_any_exit
