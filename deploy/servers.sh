# Sourced (not run) by deploy/run.sh and deploy/run_cluster.sh, from the
# project root: the settings both read, and starting and stopping the servers.
# Settings may come from a .env file (see .env.example).

if [ -f .env ]; then
  set -a; . ./.env; set +a
fi
export RASA_PORT="${RASA_PORT:-5005}"
export ACTION_PORT="${ACTION_PORT:-5055}"
export ACTION_SERVER_URL="${ACTION_SERVER_URL:-http://127.0.0.1:${ACTION_PORT}/webhook}"
# The shared secret between the Rasa server(s) and the action server.
export ACTION_SERVER_TOKEN="${ACTION_SERVER_TOKEN:-$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')}"
# The key that signs the website's session ids (rasa_server/identity.py): one per
# run unless set (then widget sessions end with the run). Several Rasa servers
# behind one load balancer must share it.
export WEB_SESSION_SECRET="${WEB_SESSION_SECRET:-$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')}"
# The REST channel's token (trusted server-side clients; the widget does not use
# REST): one per run unless set, written to var/rest-token for local tools.
export REST_API_TOKEN="${REST_API_TOKEN:-$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')}"
export WEB_PORT="${WEB_PORT:-8080}"
export CORS_ORIGINS="${CORS_ORIGINS:-http://localhost:${WEB_PORT},http://127.0.0.1:${WEB_PORT}}"
# The origins as separate words for `--cors "${cors_origins[@]}"`, split on commas
# only: an unquoted expansion would let the shell turn '*' into file names.
IFS=',' read -r -a cors_origins <<<"${CORS_ORIGINS// /}"
# credentials.yml reads every channel's keys from the environment; a channel whose
# keys are empty stays off (its webhook answers 503), so unset keys become empty.
for key in $(grep -oE '\$\{[A-Z0-9_]+\}' credentials.yml | tr -d '${}' | sort -u); do
  export "$key"="${!key:-}"
done
export RASA_TELEMETRY_ENABLED=false
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
# One compute thread per process: the worker processes already share the cores,
# and the models are small, so a thread pool per call costs more than it gives.
# TensorFlow's threads, and OpenBLAS's (numpy: the sentence encoder), whose idle
# threads spin: 40.6 ms of CPU per message with one, 73.1 ms with two, for
# about the same wall time (make profile, docs/speed.md).
export TF_INTRA_OP_PARALLELISM_THREADS="${TF_INTRA_OP_PARALLELISM_THREADS:-1}"
export TF_INTER_OP_PARALLELISM_THREADS="${TF_INTER_OP_PARALLELISM_THREADS:-1}"
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
# Where the servers write their logs (tests give each run its own folder), and
# how much (DEBUG logs the messages; phone numbers, e-mail addresses and
# callback answers are masked in them).
LOG_DIR="${LOG_DIR:-results/logs}"
export LOG_LEVEL="${LOG_LEVEL:-INFO}"
mkdir -p var "$LOG_DIR"
(umask 077 && printf '%s\n' "$REST_API_TOKEN" >var/rest-token)

# check_servers_and_nginx: RASA_SERVERS is a whole number, and NGINX (the load
# balancer in front of the Rasa servers) is there; or exit saying what to do.
check_servers_and_nginx() {
  if ! [[ "$RASA_SERVERS" =~ ^[1-9][0-9]*$ ]]; then
    echo "RASA_SERVERS must be a whole number of servers, at least 1, not '$RASA_SERVERS'." >&2
    exit 1
  fi
  if [ ! -x "$NGINX" ]; then
    echo "No nginx at $NGINX: run 'make nginx' (Debian's nginx-light; make run does it), or set NGINX." >&2
    exit 1
  fi
}

# check_ports_free FIRST COUNT WHAT: the COUNT ports from FIRST can be bound on
# 127.0.0.1 (as the servers bind them), or exit saying which one is taken.
check_ports_free() {
  .venv/bin/python -m deploy.ports "$@" || exit 1
}

# model_for TARGET: the trained model for the current data, in $model, or exit
# saying to run `make train` (or TARGET, which trains).
model_for() {
  local fp
  fp=$(.venv/bin/python -m tools.model_fingerprint)
  model="models/clonazepam-${fp}.tar.gz"
  if [ ! -f "$model" ]; then
    echo "No model for the current data ($model). Run 'make train' (or '$1', which trains)." >&2
    exit 1
  fi
}

# The servers started (start them in the background, then `pids+=($!)`); all of
# them are stopped on Ctrl-C, SIGTERM or exit.
pids=()
# A Sanic worker still loading the model when SIGTERM arrives can miss it (seen
# once in CI: the Rasa server never exited). So: SIGTERM, and again after 15 s
# to whatever is left (by then it has loaded); after 30 s, SIGKILL the servers
# and their worker processes.
_alive() { local p; for p in "$@"; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }
_signal_tree() {  # _signal_tree SIGNAL PID...: each process and its children
  local p
  for p in "${@:2}"; do
    pkill "-$1" -P "$p" 2>/dev/null || true
    kill "-$1" "$p" 2>/dev/null || true
  done
}
stop() {
  trap - INT TERM EXIT
  if [ ${#pids[@]} -gt 0 ]; then
    echo "Stopping the servers ..."
    kill -TERM "${pids[@]}" 2>/dev/null || true
    local i
    for ((i = 0; i < 300; i++)); do
      _alive "${pids[@]}" || break
      if ((i == 150)); then _signal_tree TERM "${pids[@]}"; fi
      sleep 0.1
    done
    if _alive "${pids[@]}"; then
      echo "A server did not stop within 30 s of SIGTERM; killing it." >&2
      _signal_tree KILL "${pids[@]}"
    fi
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

# Return as soon as any server exits; the EXIT trap stops the others.
wait_for_any_exit() {
  local status
  set +e
  wait -n "${pids[@]}"
  status=$?
  echo "A server stopped (exit $status); see ${LOG_DIR}/." >&2
  exit "$status"
}
