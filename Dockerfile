# edibot in a container: `docker build -t edibot . && docker run --rm -v edibot-data:/data edibot plans`
# On Slack (HTTP mode): `docker run -d -p 3000:3000 --env-file .env -v edibot-data:/data edibot run --slack-http`
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    EDIBOT_DATA_DIR=/data
# Outside a container edibot listens on 127.0.0.1 only; here it must answer on the container's interface.
ENV EDIBOT_HOST=0.0.0.0

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY schedules ./schedules
RUN pip install . && useradd --create-home --uid 10001 edibot && mkdir -p /data && chown edibot /data && chmod 0700 /data

USER edibot
VOLUME ["/data"]
EXPOSE 3000
ENTRYPOINT ["edibot"]
CMD ["--help"]
