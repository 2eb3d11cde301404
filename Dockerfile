# edibot in a container. Build: `docker build -t edibot .`; a production-like start with PostgreSQL:
# `docker compose up` (docker-compose.yml). One image, any role: `edibot run --slack-http --role web|worker`.
#
# Two stages: the first builds a virtual environment from the pinned lock (requirements.lock, `make lock`)
# and edibot's wheel; the second is python slim with that environment copied in, and nothing else: no pip
# cache, no compilers, no build tools (every dependency installs from a wheel; a build stage keeps it so).

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/edibot
WORKDIR /src
# The lock first: the dependencies' layer is rebuilt only when the lock changes, not at every code change.
COPY requirements.lock ./
RUN /opt/edibot/bin/pip install --no-deps --require-virtualenv -r requirements.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY schedules ./schedules
# --no-deps: everything edibot needs came from the lock above; this adds edibot itself only.
RUN /opt/edibot/bin/pip install --no-deps --require-virtualenv . \
    && /opt/edibot/bin/python -m compileall -q /opt/edibot/lib

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/edibot/bin:$PATH \
    EDIBOT_DATA_DIR=/data \
    EDIBOT_HOST=0.0.0.0 \
    EDIBOT_PORT=3000 \
    EDIBOT_LOG_FORMAT=json \
    PROMETHEUS_MULTIPROC_DIR=/tmp/edibot-metrics
# Outside a container edibot listens on 127.0.0.1 only; here it must answer on the container's interface.
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin edibot \
    && mkdir -p /data && chown edibot /data && chmod 0700 /data
# The application is root's and read-only to edibot; only /data (and /tmp) are written.
COPY --from=build /opt/edibot /opt/edibot

USER 10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 3000
# /healthz answers while the process serves (every role serves it); python is there, curl is not.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('EDIBOT_PORT', '3000') + '/healthz', timeout=4)"]
ENTRYPOINT ["edibot"]
# Serves Slack over HTTP, with the reminders beside it; compose runs web and worker replicas instead.
CMD ["run", "--slack-http"]
