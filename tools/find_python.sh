#!/usr/bin/env bash
# Print the path of a Python 3.10 interpreter (Rasa 3.6 supports 3.8-3.10; we pin 3.10).
# Looks at $PYTHON, python3.10 on PATH, then pyenv. Exits 1 with advice if none is found.
set -euo pipefail

is_310() { [ -n "${1:-}" ] && [ -x "$1" ] && "$1" -c 'import sys, venv; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; }

candidates=()
[ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
command -v python3.10 >/dev/null 2>&1 && candidates+=("$(command -v python3.10)")
if command -v pyenv >/dev/null 2>&1; then
  while read -r v; do
    p="$(pyenv root)/versions/$v/bin/python3.10"
    candidates+=("$p")
  done < <(pyenv versions --bare 2>/dev/null | grep -E '^3\.10(\.[0-9]+)?$' | sort -t. -k3 -n -r)
fi
for p in "${HOME}"/.pyenv/versions/3.10*/bin/python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do
  candidates+=("$p")
done

for c in "${candidates[@]}"; do
  if is_310 "$c"; then echo "$c"; exit 0; fi
done

cat >&2 <<'MSG'
ERROR: no Python 3.10 interpreter was found.
Rasa Open Source 3.6.21 needs Python 3.8-3.10; this project pins 3.10.
Install one of:
  - pyenv:   pyenv install 3.10.13
  - Debian/Ubuntu: apt-get install python3.10 python3.10-venv
  - macOS:   brew install python@3.10
or point PYTHON at one: make run PYTHON=/path/to/python3.10
MSG
exit 1
