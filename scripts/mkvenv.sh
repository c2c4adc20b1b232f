#!/usr/bin/env sh
# Create the project's .venv on a machine that may lack Debian's python3-venv (no ensurepip).
# Tries, in order: python -m venv; apt-get install python3-venv (when root); virtualenv from PyPI.
set -eu
PYTHON="${1:-python3}"
VENV="${2:-.venv}"

"$PYTHON" -m venv "$VENV" 2>/dev/null && exit 0
rm -rf "$VENV"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "python -m venv failed; installing Debian's python3-venv" >&2
  apt-get install -y -q python3-venv >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q python3-venv >/dev/null 2>&1; } || true
  "$PYTHON" -m venv "$VENV" 2>/dev/null && exit 0
  rm -rf "$VENV"
fi
echo "python -m venv unavailable; using virtualenv from PyPI" >&2
"$PYTHON" -m pip install --quiet --user virtualenv==20.35.4 2>/dev/null ||
  "$PYTHON" -m pip install --quiet --user --break-system-packages virtualenv==20.35.4
"$PYTHON" -m virtualenv --quiet "$VENV"
