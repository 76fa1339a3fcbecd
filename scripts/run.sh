#!/usr/bin/env bash
# THE run command: `bash scripts/run.sh`. Starts the whole platform on this machine, nothing to install by hand:
#   - the Temporal dev server, persisted to .data/temporal.db, Web UI on :8233
#   - an SMTP sink on 127.0.0.1:1025 that writes every e-mail to the Maildir .data/mail
#   - database migrations (SQLite .data/levqor.db unless DATABASE_URL says otherwise)
#   - the API on 127.0.0.1:8000 (docs at /docs) with its embedded worker
# The dev server and the SMTP sink come from the dev extra, which bootstrap.sh installs from requirements-dev.lock.
# Ctrl-C (or SIGTERM) stops all of it. Ports: TEMPORAL_PORT, TEMPORAL_UI_PORT, SMTP_PORT, API_PORT.
set -euo pipefail
cd "$(dirname "$0")/.."

# The port settings from the environment, else from .env (which the API and `levqor status` read too).
for name in TEMPORAL_PORT TEMPORAL_UI_PORT SMTP_PORT API_PORT API_HOST; do
  if [ -z "${!name:-}" ] && [ -f .env ]; then
    value="$(grep -E "^$name=" .env | tail -1 | cut -d= -f2- || true)"
    if [ -n "$value" ]; then export "$name=$value"; fi
  fi
done

TEMPORAL_PORT="${TEMPORAL_PORT:-7233}"
TEMPORAL_UI_PORT="${TEMPORAL_UI_PORT:-8233}"
export SMTP_HOST=127.0.0.1 SMTP_PORT="${SMTP_PORT:-1025}"
export TEMPORAL_ADDRESS="127.0.0.1:$TEMPORAL_PORT"
API_URL="http://${API_HOST:-127.0.0.1}:${API_PORT:-8000}"

# A server already on one of these ports would answer in our place (other checkouts may run one).
for port in "$TEMPORAL_PORT" "$TEMPORAL_UI_PORT" "$SMTP_PORT" "${API_PORT:-8000}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "run.sh: port $port is already in use; stop what uses it or choose other ports (see the top of $0)" >&2
    exit 1
  fi
done

source scripts/bootstrap.sh
mkdir -p .data

# The founder credential: from the environment, else .env, else a new one written to .env once.
if [ -z "${LEVQOR_FOUNDER_TOKEN:-}" ] && ! grep -qs '^LEVQOR_FOUNDER_TOKEN=.\+' .env; then
  token="$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')"
  if [ -s .env ] && [ -n "$(tail -c1 .env)" ]; then echo >> .env; fi
  echo "LEVQOR_FOUNDER_TOKEN=$token" >> .env
  chmod 600 .env
  echo "run.sh: new founder token (saved in .env, shown only this once): $token"
fi
# The key that encrypts tenant secrets at rest: generated once, kept in .env (losing it loses the secrets).
if [ -z "${LEVQOR_SECRETS_KEY:-}" ] && ! grep -qs '^LEVQOR_SECRETS_KEY=.\+' .env; then
  key="$(.venv/bin/python -c 'from core.security import SecretBox; print(SecretBox.new_key())')"
  if [ -s .env ] && [ -n "$(tail -c1 .env)" ]; then echo >> .env; fi
  echo "LEVQOR_SECRETS_KEY=$key" >> .env
  chmod 600 .env
fi

pids=()
stop_all() {
  trap - EXIT INT TERM
  local pid
  # Newest first: the API before the services it uses.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid="${pids[i]}"
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# setsid: Ctrl-C reaches only this script, which then stops everything in order.
setsid .venv/bin/levqor-temporal --db-file .data/temporal.db --port "$TEMPORAL_PORT" \
  --ui-port "$TEMPORAL_UI_PORT" --log-file .data/temporal.log &
pids+=("$!")
until .venv/bin/temporal operator cluster health --address "$TEMPORAL_ADDRESS" 2>/dev/null | grep -q SERVING; do
  # levqor-temporal gives up by itself after 30 s.
  if ! kill -0 "${pids[0]}" 2>/dev/null; then
    echo "run.sh: the Temporal dev server did not start (see .data/temporal.log)" >&2
    exit 1
  fi
  sleep 0.1
done

.venv/bin/python -c "import mailbox; mailbox.Maildir('.data/mail', create=True)"
setsid .venv/bin/python -m aiosmtpd -n -l "$SMTP_HOST:$SMTP_PORT" -c aiosmtpd.handlers.Mailbox .data/mail \
  >> .data/smtp.log 2>&1 &
pids+=("$!")

.venv/bin/python -c 'from core.db import migrate; from core.settings import get_settings; migrate(get_settings().database_url)'
if ! kill -0 "${pids[1]}" 2>/dev/null; then
  echo "run.sh: the SMTP sink did not start on $SMTP_HOST:$SMTP_PORT (see .data/smtp.log)" >&2
  exit 1
fi

cat <<EOF
run.sh: Levqor is starting
  API          $API_URL
  API docs     $API_URL/docs
  Temporal UI  http://127.0.0.1:$TEMPORAL_UI_PORT
  Temporal     $TEMPORAL_ADDRESS (state in .data/temporal.db)
  E-mail sink  $SMTP_HOST:$SMTP_PORT -> .data/mail
A first run: README.md, "A first run" (curl and jq, no internet needed).
Ctrl-C stops everything.
EOF
.venv/bin/levqor-api &
pids+=("$!")
wait "${pids[-1]}"
