# Starts a throwaway PostgreSQL cluster on 127.0.0.1 for the tests and exports DATABASE_URL.
#
#   source scripts/postgres.sh          # installs Debian's postgresql if missing, starts, exports DATABASE_URL
#   bash scripts/postgres.sh            # the same, printing `export DATABASE_URL=...` for eval
#   bash scripts/postgres.sh stop       # stops the cluster (its data stays under $PGDATA_DIR)
#
# Idempotent and safe to source: it changes no shell options of the caller. Settings (with defaults):
# PGPORT=55432 PGDATA_DIR=/tmp/levqor-pg PGDATABASE_NAME=levqor_test PGUSER_NAME=levqor PGUSER_PASSWORD=levqor.
# The cluster trusts local connections (initdb -A trust): it is for tests only.

_levqor_pg() {
  local port="${PGPORT:-55432}" data="${PGDATA_DIR:-/tmp/levqor-pg}"
  local db="${PGDATABASE_NAME:-levqor_test}" user="${PGUSER_NAME:-levqor}" pass="${PGUSER_PASSWORD:-levqor}"
  local action="${1:-start}" pgbin run=() lock_fd status

  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "postgres.sh: installing PostgreSQL (apt-get)..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || return 1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null || return 1
  fi
  pgbin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
  # initdb and pg_ctl refuse to run as root.
  if [ "$(id -u)" = 0 ]; then run=(runuser -u postgres --); fi

  if [ "$action" = stop ]; then
    "${run[@]}" "$pgbin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
    return 0
  fi

  # Several checkouts may start the same cluster at once: one at a time.
  exec {lock_fd}>"$data.lock" || return 1
  flock "$lock_fd" || return 1
  (
    exec {lock_fd}>&-  # or the server would inherit the lock
    if [ ! -s "$data/PG_VERSION" ]; then
      # /tmp, not the checkout: the postgres user cannot enter /root.
      mkdir -p "$data" && chmod 700 "$data" || exit 1
      if [ "${#run[@]}" -gt 0 ]; then chown postgres:postgres "$data" || exit 1; fi
      "${run[@]}" "$pgbin/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null || exit 1
    fi
    if ! "${run[@]}" "$pgbin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
      # -k: the socket goes into the data folder, /var/run/postgresql may not exist.
      "${run[@]}" "$pgbin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 -o "-c listen_addresses=127.0.0.1 \
        -p $port -k $data -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null || exit 1
    fi
    psql_() { "$pgbin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
    psql_ -c "SELECT 1 FROM pg_roles WHERE rolname = '$user'" | grep -q 1 \
      || psql_ -c "CREATE ROLE \"$user\" LOGIN PASSWORD '$pass' CREATEDB" || exit 1
    # Tests drop their scratch databases WITH (FORCE), which must also end an autovacuum worker inside one.
    psql_ -c "GRANT pg_signal_backend TO \"$user\"" >/dev/null 2>&1 || exit 1
    psql_ -c "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 \
      || psql_ -c "CREATE DATABASE \"$db\" OWNER \"$user\"" || exit 1
  )
  status=$?
  flock -u "$lock_fd"; exec {lock_fd}>&-
  if [ "$status" != 0 ]; then
    echo "postgres.sh: could not start PostgreSQL (log: $data/server.log)" >&2
    return "$status"
  fi
  export DATABASE_URL="postgresql+psycopg://$user:$pass@127.0.0.1:$port/$db"
}

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
  if _levqor_pg "$@"; then unset -f _levqor_pg; return 0; else unset -f _levqor_pg; return 1; fi
fi
_levqor_pg "$@" || exit 1
if [ "${1:-start}" != stop ]; then echo "export DATABASE_URL=$DATABASE_URL"; fi
