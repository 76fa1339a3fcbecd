# The Levqor image: API (`levqor-api`), worker (`levqor-worker`) and the one-shot setup commands.
# Debian 12 named, so a rebuild gets the platform the lock's wheels were checked on.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LOG_FORMAT=json

WORKDIR /app

# Dependencies first, from the runtime lock alone (hash-checked, no dev or test extra: no Temporal dev
# server, no SMTP sink), so a code change reuses this layer.
COPY requirements.lock /tmp/requirements.lock
RUN pip install --require-hashes -r /tmp/requirements.lock \
    && rm /tmp/requirements.lock

COPY . /tmp/src
RUN pip install --no-deps /tmp/src \
    && rm -rf /tmp/src \
    && useradd --create-home --uid 10001 levqor \
    && install -d -o levqor -g levqor /var/lib/levqor/usage-outbox

USER levqor
EXPOSE 8000
CMD ["levqor-api"]
