#!/usr/bin/env bash
# THE test command: `bash scripts/test.sh [pytest args]` (default: the whole suite, -q).
#
# Installs what is missing (.venv, PostgreSQL), starts a throwaway PostgreSQL on 127.0.0.1:${PGPORT:-55432}
# and runs pytest against it with DATABASE_URL set. tests/conftest.py starts the Temporal dev server itself.
# pytest's exit code is passed through, so "no tests ran" (5) fails too.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/bootstrap.sh
source scripts/postgres.sh
export DATABASE_URL

if [ "$#" -eq 0 ]; then set -- -q; fi
exec .venv/bin/pytest "$@"
