# odek: the scheduler and the Telegram bot in one image.
# Build: docker compose build   Run: docker compose up -d   (see docs/DEPLOY.md)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ODEK_HOME=/data/odek \
    ODEK_LOG_FORMAT=json

# A fixed, unprivileged user; ODEK_HOME lives on a volume it owns.
RUN useradd --create-home --uid 10001 --user-group odek \
    && mkdir -p /data/odek /workspace \
    && chown odek:odek /data/odek /workspace \
    && chmod 0700 /data/odek

WORKDIR /src
COPY pyproject.toml README.md ./
COPY odek ./odek
COPY supervisors ./supervisors
RUN pip install --no-cache-dir . && rm -rf /src

USER odek
WORKDIR /workspace
VOLUME ["/data/odek"]

# Reads the scheduler's heartbeat in ODEK_HOME: healthy while the scheduler's process runs,
# its timer woke within 2 minutes and no actor is being restarted (docs/DEPLOY.md).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["odek", "health"]
ENTRYPOINT ["odek"]
CMD ["telegram"]
