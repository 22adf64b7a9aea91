#!/usr/bin/env bash
# The README's two commands live here.
#   ./run.sh          set everything up (idempotent) and run the main job (the whole pipeline)
#   ./run.sh test     set everything up (idempotent) and run the test suite
# Needs only Python 3.11 and the package registry. Creates .venv (the project) and
# .venv-ls (the Label Studio server, kept apart from our dependencies).
set -euo pipefail
cd "$(dirname "$0")"

PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for cand in python3.11 python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then PY="$cand"; break; fi
  done
fi
[ -n "$PY" ] || { echo "error: Python 3.11 is required (set PYTHON=/path/to/python3.11)" >&2; exit 2; }

export PIP_DISABLE_PIP_VERSION_CHECK=1
export HF_DATASETS_OFFLINE=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false

# pip on some machines lists local index folders that do not exist: drop those warnings, keep the rest.
quiet_pip() { "$@" 2> >(grep -v "^WARNING: Location 'file://" >&2); }

stamp_ok() { [ -f "$1" ] && [ "$1" -nt pyproject.toml ] && [ "$1" -nt run.sh ]; }

if ! stamp_ok .venv/.installed; then
  echo "== setting up .venv (project and test dependencies)"
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  quiet_pip .venv/bin/python -m pip install -q --upgrade "pip>=24" >/dev/null
  # (setuptools' notice that a folder named like the package sits in the working directory is expected
  # here: vnreorg/ is the package's own shared code)
  PYTHONWARNINGS="ignore:Editable installation" quiet_pip .venv/bin/python -m pip install -q -e ".[dev,dask]"
  touch .venv/.installed
fi

LS_VERSION="1.23.2"
if ! stamp_ok .venv-ls/.installed; then
  echo "== setting up .venv-ls (label-studio $LS_VERSION server)"
  [ -x .venv-ls/bin/python ] || "$PY" -m venv .venv-ls
  quiet_pip .venv-ls/bin/python -m pip install -q --upgrade "pip>=24" >/dev/null
  quiet_pip .venv-ls/bin/python -m pip install -q "label-studio==$LS_VERSION"
  touch .venv-ls/.installed
fi
export VNREORG_LABEL_STUDIO="$PWD/.venv-ls/bin/label-studio"

# The browser tests (tests/test_browser.py) drive Debian's chromium through Playwright (from the dev extra);
# Playwright's own browser download is never used. Installed here when absent and we are root.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing chromium (Debian package) for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "error: the browser tests need chromium; run as root: apt-get update && apt-get install -y chromium" >&2
    exit 2
  fi
fi

case "${1:-all}" in
  test) shift; exec .venv/bin/python -m pytest "$@" ;;
  all) shift || true; exec .venv/bin/vnreorg all "$@" ;;
  *) exec .venv/bin/vnreorg "$@" ;;
esac
