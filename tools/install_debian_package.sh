#!/usr/bin/env bash
# Make sure a program the tests or `make run-cluster` need is installed, from
# Debian's packages (the offline-friendly source here):
#   tools/install_debian_package.sh PACKAGE VARIABLE DEFAULT_PATH PURPOSE
# VARIABLE names an environment variable that may point at another binary
# (then nothing is installed); otherwise the program is expected at
# DEFAULT_PATH. As root, or with password-less sudo, the package is installed
# with apt-get; otherwise the script says what to install and exits 1.
set -euo pipefail
package="$1" variable="$2" default_path="$3" purpose="$4"
path="${!variable:-$default_path}"
if [ -x "$path" ]; then
  exit 0
fi
if [ -n "${!variable:-}" ]; then
  echo "$variable=${!variable} is not an executable file." >&2
  exit 1
fi
install_cmd="apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $package"
if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing Debian's $package for $purpose ..."
    bash -c "$install_cmd" >/dev/null
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    echo "Installing Debian's $package for $purpose (sudo) ..."
    sudo bash -c "$install_cmd" >/dev/null
  fi
fi
if [ ! -x "$path" ]; then
  cat >&2 <<MSG
$path is needed for $purpose and it could not be installed here.
Install it (Debian/Ubuntu: sudo apt-get install $package), or set $variable
to another binary.
MSG
  exit 1
fi
