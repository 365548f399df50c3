#!/usr/bin/env bash
# Start the action server, the Rasa server (REST, socket.io and the messaging
# channels) and the website page with the chat widget; print where to talk to the
# assistant, and stop all of them cleanly on Ctrl-C / SIGTERM.
# Works without a terminal (service managers, scripts). Ports: RASA_PORT (5005),
# ACTION_PORT (5055), WEB_PORT (8080). Settings may come from a .env file (see
# .env.example).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -f .env ]; then
  set -a; . ./.env; set +a
fi
export RASA_PORT="${RASA_PORT:-5005}"
export ACTION_PORT="${ACTION_PORT:-5055}"
export ACTION_SERVER_URL="${ACTION_SERVER_URL:-http://127.0.0.1:${ACTION_PORT}/webhook}"
# The shared secret between the Rasa server and the action server.
export ACTION_SERVER_TOKEN="${ACTION_SERVER_TOKEN:-$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')}"
export TRACKER_DB="${TRACKER_DB:-var/tracker.sqlite3}"
export LOCK_DB="${LOCK_DB:-var/locks.sqlite3}"
# Two Rasa worker processes share the CPU cores (each loads the model); the lock
# store keeps each conversation's messages in order across them. One TensorFlow
# thread per worker: the models are small and a thread pool per call costs more
# than it gives (make bench, README "Speed").
export SANIC_WORKERS="${SANIC_WORKERS:-2}"
export TF_INTRA_OP_PARALLELISM_THREADS="${TF_INTRA_OP_PARALLELISM_THREADS:-1}"
export TF_INTER_OP_PARALLELISM_THREADS="${TF_INTER_OP_PARALLELISM_THREADS:-1}"
# endpoints.yml (SQLite, one server) or config/endpoints.scale.yml (PostgreSQL + Redis)
ENDPOINTS="${ENDPOINTS:-endpoints.yml}"
export WEB_PORT="${WEB_PORT:-8080}"
export CORS_ORIGINS="${CORS_ORIGINS:-http://localhost:${WEB_PORT},http://127.0.0.1:${WEB_PORT}}"
# credentials.yml reads every channel's keys from the environment; a channel whose
# keys are empty stays off (its webhook answers 503), so unset keys become empty.
for key in $(grep -oE '\$\{[A-Z0-9_]+\}' credentials.yml | tr -d '${}' | sort -u); do
  export "$key"="${!key:-}"
done
export RASA_TELEMETRY_ENABLED=false
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
# Where the three servers write their logs (tests give each run its own folder),
# and how much (DEBUG logs the messages; phone numbers, e-mail addresses and
# callback answers are masked in them).
LOG_DIR="${LOG_DIR:-results/logs}"
export LOG_LEVEL="${LOG_LEVEL:-INFO}"
mkdir -p var "$LOG_DIR"
# Rasa's HTTP API (/conversations, /model, ...) stays off. ENABLE_API=true turns it
# on, and then only with RASA_API_TOKEN (16+ characters; clients send ?token=...):
# scripts/rasa_server.py refuses to start an open API.
api_args=()
if [ "${ENABLE_API:-false}" = "true" ]; then
  api_args=(--enable-api)
fi

fp=$(.venv/bin/python scripts/model_fingerprint.py)
model="models/clonazepam-${fp}.tar.gz"
if [ ! -f "$model" ]; then
  echo "No model for the current data ($model). Run 'make train' (or 'make run', which trains)." >&2
  exit 1
fi

pids=()
stop() {
  trap - INT TERM EXIT
  if [ ${#pids[@]} -gt 0 ]; then
    echo "Stopping the assistant ..."
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

echo "Starting the Rasa server on port ${RASA_PORT} with $model (log: ${LOG_DIR}/rasa-server.log) ..."
.venv/bin/python -m scripts.rasa_server run --model "$model" --port "${RASA_PORT}" --endpoints "${ENDPOINTS}" \
  --credentials credentials.yml --cors ${CORS_ORIGINS//,/ } ${api_args[@]+"${api_args[@]}"} \
  </dev/null >"${LOG_DIR}/rasa-server.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:${RASA_PORT}/" rasa-server "${pids[1]}" 180

echo "Starting the website page on port ${WEB_PORT} (log: ${LOG_DIR}/web-server.log) ..."
.venv/bin/python web/server.py --port "${WEB_PORT}" </dev/null >"${LOG_DIR}/web-server.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:${WEB_PORT}/health" web-server "${pids[2]}" 30

cat <<MSG

The assistant is running.
  Website:   open http://localhost:${WEB_PORT} in a browser and click "Questions? Chat with us"
  REST:      curl -XPOST localhost:${RASA_PORT}/webhooks/rest/webhook -d '{"sender":"me","message":"what is klonopin"}'
  Socket.IO: http://localhost:${RASA_PORT}/socket.io (for the website chat widget)
Press Ctrl-C to stop.
MSG

# Return as soon as either server exits; the EXIT trap stops the other one.
set +e
wait -n "${pids[@]}"
status=$?
echo "A server stopped (exit $status); see ${LOG_DIR}/." >&2
exit "$status"
