# Creates .venv (Python 3.11) and installs exactly what requirements-dev.lock pins (the runtime, the dev
# extra and the test extra, hash-checked), then the project itself. Sourced by test.sh and run.sh.
#
# Re-running is fast: the install is skipped while .venv/.levqor-installed is newer than pyproject.toml and
# both lock files. Delete that stamp (or the whole .venv) to force a reinstall.

_levqor_bootstrap() {
  local root stamp python
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)" || return 1
  stamp="$root/.venv/.levqor-installed"
  if [ ! -x "$root/.venv/bin/python" ]; then
    python="$(command -v python3.11 || true)"
    if [ -z "$python" ] && python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      python="$(command -v python3)"
    fi
    if [ -z "$python" ]; then
      echo "bootstrap.sh: Python 3.11 is required (python3.11 not found)" >&2
      return 1
    fi
    echo "bootstrap.sh: creating .venv with $python" >&2
    "$python" -m venv "$root/.venv" || return 1
    rm -f "$stamp"
  fi
  local input stale=""
  [ -f "$stamp" ] || stale=1
  for input in pyproject.toml requirements.lock requirements-dev.lock; do
    if [ "$root/$input" -nt "$stamp" ]; then stale=1; fi
  done
  if [ -n "$stale" ]; then
    echo "bootstrap.sh: installing requirements-dev.lock and the project into .venv" >&2
    (cd "$root" \
      && .venv/bin/python -m pip install -q --disable-pip-version-check --require-hashes -r requirements-dev.lock \
      && .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e .) || return 1
    touch "$stamp"
  fi
  # Workflow code is re-imported into Temporal's sandbox for every run; without bytecode on disk (an
  # editable install under PYTHONDONTWRITEBYTECODE) each run recompiles it. Measured: ~25% of the API's CPU.
  (cd "$root" && .venv/bin/python -m compileall -q orchestrator activities api schemas core temporal \
    language starters rules domain >/dev/null) || return 1
}

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
  if _levqor_bootstrap; then unset -f _levqor_bootstrap; return 0; else unset -f _levqor_bootstrap; return 1; fi
fi
_levqor_bootstrap || exit 1
