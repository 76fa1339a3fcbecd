# Installs Debian's Chromium for the web app's browser tests (tests/web/browser) when it is missing.
#
#   source scripts/chromium.sh          # from scripts/test.sh
#   bash scripts/chromium.sh            # the same, by hand
#
# Playwright (requirements-dev.lock) drives /usr/bin/chromium; `playwright install` is never run (the machines reach
# the package registries only). Refreshes apt's lists first when installing fails without them (~25 s in all).
# Without Chromium the browser tests fail (never skip), so a failed install here fails the test command too.
# The fonts draw Japanese, Chinese (Droid Sans Fallback) and Hindi (Lohit Devanagari) text in the journeys' screenshots.

_levqor_chromium() {
  local package missing=""
  for package in chromium fonts-droid-fallback fonts-lohit-deva; do
    dpkg -s "$package" >/dev/null 2>&1 || missing="$missing $package"
  done
  [ -x /usr/bin/chromium ] && [ -z "$missing" ] && return 0
  echo "chromium.sh: installing$missing (apt-get) for the browser tests..." >&2
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null 2>&1 && return 0
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || return 1
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null || return 1
}

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
  if _levqor_chromium; then unset -f _levqor_chromium; return 0; else unset -f _levqor_chromium; return 1; fi
fi
_levqor_chromium || exit 1
