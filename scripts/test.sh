#!/usr/bin/env bash
# Sets up everything the checks need and runs them all: generated code is current, protos lint,
# ruff, mypy --strict, then the whole pytest suite (also on PostgreSQL when
# LRS_TEST_POSTGRES_URL is set, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test; the
# rate-limit tests run when LRS_TEST_REDIS_URL is set, e.g. redis://127.0.0.1:6379/0).
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then python=$candidate; break; fi
  done
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'

echo "== generated code is current"
.venv/bin/python scripts/generate_protos.py --check

echo "== buf lint"
if command -v npm >/dev/null 2>&1; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  (cd proto && ../node_modules/.bin/buf lint)
  # lrs-web serves GOV.UK Frontend's CSS, fonts and JS itself: copy them from node_modules.
  .venv/bin/python scripts/vendor_govuk.py
elif [ -n "${CI:-}" ]; then
  echo "npm is needed for buf lint and the web front end in CI" >&2; exit 1
else
  echo "npm not found: skipping buf lint and the browser tests (CI runs them)"
fi

echo "== chromium for the browser tests (tests/web)"
if [ -x /usr/bin/chromium ]; then
  echo "using /usr/bin/chromium"
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "Debian's chromium is missing and this is not root: the browser tests will be skipped" \
    "(run: sudo apt-get install chromium)"
fi

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

echo "== mypy --strict"
.venv/bin/mypy

echo "== pytest${LRS_TEST_POSTGRES_URL:+ (SQLite and PostgreSQL)}"
.venv/bin/python -m pytest -n 2 -q "$@"
