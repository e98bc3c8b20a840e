# The triage bot as a container image (docs/deploy.md, "Run it in a container").
#
#   docker build -t triage-bot .                  # or: podman build --format docker
#   docker run -d --env-file .env -v triage-data:/data -v "$PWD/practice:/practice:ro" triage-bot
#
# BASE_IMAGE is any Debian-like image with Python 3.11+ and `python3 -m venv`: the official
# python image by default; scripts/test-image builds one from Debian's own packages instead.
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PATH=/opt/triage-bot/.venv/bin:$PATH

# A user of its own: the bot never runs as root.
RUN useradd --uid 10001 --user-group --home-dir /opt/triage-bot \
        --no-create-home --shell /usr/sbin/nologin triage-bot \
    && mkdir -p /opt/triage-bot /data /practice \
    && chown triage-bot:triage-bot /data

WORKDIR /opt/triage-bot
# Optional, only while building: the CA bundle of a TLS-inspecting proxy between the build
# and PyPI (mounted with `podman build -v`, as scripts/test-image does).
ARG PIP_CERT
# The dependencies first, so a code change rebuilds only the last layers.
COPY pyproject.toml README.md ./
RUN python3 -m venv .venv \
    && .venv/bin/pip install --quiet --upgrade pip \
    && mkdir bot && touch bot/__init__.py \
    && .venv/bin/pip install --quiet . \
    && .venv/bin/pip uninstall --quiet --yes sciatica-triage-bot \
    && rm -r bot build *.egg-info
COPY bot ./bot
COPY flows ./flows
COPY docs ./docs
COPY deploy/healthcheck.py ./deploy/healthcheck.py
RUN .venv/bin/pip install --quiet --no-deps . && rm -rf build *.egg-info

# The database, its backups, and the practice's own flow live outside the image.
ENV DATABASE_PATH=/data/triage.db \
    BACKUP_DIR=/data/backups \
    FLOW_FILE=/practice/sciatica.yaml \
    HEALTH_PORT=8080 \
    HEALTH_LISTEN=127.0.0.1 \
    LOG_FORMAT=json
VOLUME ["/data", "/practice"]

USER triage-bot
# Polling by default: nothing needs to reach the container. Set WEBHOOK_URL (and
# WEBHOOK_SECRET_TOKEN, WEBHOOK_LISTEN=0.0.0.0) for webhook mode behind a proxy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python3", "/opt/triage-bot/deploy/healthcheck.py"]
# The bot finishes the update at hand, confirms it to Telegram and exits 0.
STOPSIGNAL SIGTERM
CMD ["triage-bot", "run"]
