#!/usr/bin/env bash
# Make sure nginx is installed for the load balancer in front of several Rasa
# servers (`make run-cluster` and its system test). Debian's package; it runs
# as an ordinary process with a generated configuration, never as the system
# service. NGINX may name another nginx binary.
set -euo pipefail
path="${NGINX:-/usr/sbin/nginx}"
if [ -x "$path" ]; then
  exit 0
fi
if [ -n "${NGINX:-}" ]; then
  echo "NGINX=$NGINX is not an executable file." >&2
  exit 1
fi
install_cmd="apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light"
if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing Debian's nginx-light for the load balancer ..."
    bash -c "$install_cmd" >/dev/null
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    echo "Installing Debian's nginx-light for the load balancer (sudo) ..."
    sudo bash -c "$install_cmd" >/dev/null
  fi
fi
if [ ! -x "$path" ]; then
  cat >&2 <<MSG
The load balancer needs nginx at $path and it could not be installed here.
Install it (Debian/Ubuntu: sudo apt-get install nginx-light), or set NGINX to
an nginx binary.
MSG
  exit 1
fi
