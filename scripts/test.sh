#!/usr/bin/env bash
# THE test command: `bash scripts/test.sh [pytest args]`.
#
# Installs what is missing (.venv from the lock, PostgreSQL, Chromium), runs the static checks, starts a throwaway
# PostgreSQL on 127.0.0.1:${PGPORT:-55432} and runs pytest against it with DATABASE_URL set
# (tests/conftest.py starts the Temporal dev server itself). Without arguments it runs everything:
# `ruff check`, `ruff format --check`, `mypy` and the whole pytest suite. With pytest arguments it runs
# only pytest, with those (LEVQOR_CHECKS=1 runs the static checks first anyway).
# pytest's exit code is passed through, so "no tests ran" (5) fails too.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/bootstrap.sh

if [ "$#" -eq 0 ] || [ "${LEVQOR_CHECKS:-0}" = 1 ]; then
  echo "test.sh: ruff check, ruff format --check, mypy" >&2
  .venv/bin/ruff check --quiet .
  .venv/bin/ruff format --check --quiet .
  .venv/bin/mypy
fi

source scripts/postgres.sh
export DATABASE_URL
source scripts/chromium.sh  # the web app's browser tests drive Debian's Chromium

if [ "$#" -eq 0 ]; then set -- -q; fi
exec .venv/bin/pytest "$@"
