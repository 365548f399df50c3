#!/usr/bin/env bash
# Make sure a Chromium the browser tests can drive is installed (Debian's package;
# Playwright's own browser download does not work offline). CHROMIUM_PATH may
# name another Chromium/Chrome binary.
set -euo pipefail
path="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$path" ]; then
  exit 0
fi
if [ -n "${CHROMIUM_PATH:-}" ]; then
  echo "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable file." >&2
  exit 1
fi
install_cmd="apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium"
if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing Debian's chromium for the browser tests ..."
    bash -c "$install_cmd" >/dev/null
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    echo "Installing Debian's chromium for the browser tests (sudo) ..."
    sudo bash -c "$install_cmd" >/dev/null
  fi
fi
if [ ! -x "$path" ]; then
  cat >&2 <<MSG
The browser tests need Chromium at $path and it could not be installed here.
Install it (Debian/Ubuntu: sudo apt-get install chromium), or set CHROMIUM_PATH
to a Chromium or Chrome binary.
MSG
  exit 1
fi
