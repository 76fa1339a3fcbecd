# The Levqor image: API (`levqor-api`), worker (`levqor-worker`) and the one-shot setup commands.
# Debian 12 named, so a rebuild gets the platform the lock's wheels were checked on.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LOG_FORMAT=json

WORKDIR /app

# pg_dump and pg_restore for the platform backup (core/backup_engines.py). A pg_dump older than the server refuses
# to dump it, so the client comes from PostgreSQL's own apt repository at the compose server's major version.
ARG PG_CLIENT_MAJOR=16
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-common \
    && /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y \
    && apt-get install -y --no-install-recommends "postgresql-client-${PG_CLIENT_MAJOR}" \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first, from the runtime lock alone (hash-checked, no dev or test extra: no Temporal dev
# server, no SMTP sink), so a code change reuses this layer.
COPY requirements.lock /tmp/requirements.lock
RUN pip install --require-hashes -r /tmp/requirements.lock \
    && rm /tmp/requirements.lock

COPY . /tmp/src
RUN pip install --no-deps /tmp/src \
    && rm -rf /tmp/src \
    && useradd --create-home --uid 10001 levqor \
    && install -d -o levqor -g levqor /var/lib/levqor/usage-outbox /var/lib/levqor/backups

# The help chat's knowledge base is built from the README when the API starts (KNOWLEDGE_README_PATH).
COPY README.md /app/README.md

USER levqor
EXPOSE 8000
CMD ["levqor-api"]
