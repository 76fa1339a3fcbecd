# Creates .venv (Python 3.11) and installs the project with its test extras. Sourced by test.sh and run.sh.
#
# Re-running is fast: the install is skipped while .venv/.levqor-installed is newer than pyproject.toml.
# Delete that stamp (or the whole .venv) to force a reinstall.

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
  if [ ! -f "$stamp" ] || [ "$root/pyproject.toml" -nt "$stamp" ]; then
    echo "bootstrap.sh: installing the project and its test dependencies into .venv" >&2
    (cd "$root" && .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]') || return 1
    touch "$stamp"
  fi
  # Workflow code is re-imported into Temporal's sandbox for every run; without bytecode on disk (an
  # editable install under PYTHONDONTWRITEBYTECODE) each run recompiles it. Measured: ~25% of the API's CPU.
  (cd "$root" && .venv/bin/python -m compileall -q orchestrator activities api schemas core temporal >/dev/null) || return 1
}

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
  if _levqor_bootstrap; then unset -f _levqor_bootstrap; return 0; else unset -f _levqor_bootstrap; return 1; fi
fi
_levqor_bootstrap || exit 1
